package io.cvmmanager.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.InvalidConfigException;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.vm.Tee;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HostDataTest {
  private static final byte[] CA = "server-ca".getBytes(StandardCharsets.UTF_8);
  private static final byte[] CERT = "client-cert".getBytes(StandardCharsets.UTF_8);
  private static final String URL = "cvms.example:7001";

  private static QemuConfig.SevSnp snp(Map<String, String> values) throws InvalidConfigException {
    return ConfigParser.parse(values, Path.of("/root"), true).qemu().sevSnp();
  }

  /** The vectors were computed apart from this code, with Python's hashlib.sha3_256 over the documented encoding. */
  @Test
  void deriveIsSha3OverLabelAndLengthPrefixedFields() {
    assertEquals("d0f1bea6c6b769f3ab093fbbff0881ed5e9b52b9b109029d7d31fe78534aad6a",
        HexFormat.of().formatHex(HostData.derive(CA, CERT, URL)));
    assertEquals("887caf2860ff25903332c3c2c1ccee60336ff450baeb8fb9864ed6f89daaf35a",
        HexFormat.of().formatHex(HostData.derive(new byte[0], new byte[0], "")));
  }

  @Test
  void deriveGivesThirtyTwoBytes() {
    assertEquals(HostData.BYTES, HostData.derive(CA, CERT, URL).length);
  }

  @Test
  void movingBytesBetweenFieldsChangesTheDigest() {
    byte[] joined = HostData.derive("server-caclient-cert".getBytes(StandardCharsets.UTF_8), new byte[0], URL);
    byte[] split = HostData.derive(CA, CERT, URL);
    byte[] otherSplit = HostData.derive("server-".getBytes(StandardCharsets.UTF_8),
        "caclient-cert".getBytes(StandardCharsets.UTF_8), URL);
    assertFalse(Arrays.equals(joined, split));
    assertFalse(Arrays.equals(split, otherSplit));
    assertFalse(Arrays.equals(HostData.derive(CA, CERT, URL), HostData.derive(CERT, CA, URL)));
  }

  @Test
  void everyFieldCounts() {
    byte[] base = HostData.derive(CA, CERT, URL);
    assertFalse(Arrays.equals(base, HostData.derive("server-cb".getBytes(StandardCharsets.UTF_8), CERT, URL)));
    assertFalse(Arrays.equals(base, HostData.derive(CA, "client-cerT".getBytes(StandardCharsets.UTF_8), URL)));
    assertFalse(Arrays.equals(base, HostData.derive(CA, CERT, "cvms.example:7002")));
  }

  @Test
  void forVmDerivesWhenEnabledUnderSevSnp() throws InvalidConfigException {
    Optional<String> hostData = HostData.forVm(Tee.SEV_SNP, snp(Map.of("MANAGER_QEMU_ENABLE_HOST_DATA", "true")),
        CA, CERT, URL);
    assertArrayEquals(HostData.derive(CA, CERT, URL), Base64.getDecoder().decode(hostData.orElseThrow()));
  }

  @Test
  void forVmTakesTheConfiguredValueVerbatim() throws InvalidConfigException {
    byte[] bytes = new byte[32];
    java.util.Arrays.fill(bytes, (byte) 0x5a);
    String configured = Base64.getEncoder().encodeToString(bytes);
    assertEquals(Optional.of(configured), HostData.forVm(Tee.SEV_SNP, snp(Map.of(
        "MANAGER_QEMU_ENABLE_HOST_DATA", "true", "MANAGER_QEMU_HOST_DATA", configured)), CA, CERT, URL));
  }

  @Test
  void forVmGivesNothingWhenDisabledOrWithoutSevSnp() throws InvalidConfigException {
    assertEquals(Optional.empty(), HostData.forVm(Tee.SEV_SNP, snp(Map.of()), CA, CERT, URL));
    QemuConfig.SevSnp enabled = snp(Map.of("MANAGER_QEMU_ENABLE_HOST_DATA", "true"));
    assertEquals(Optional.empty(), HostData.forVm(Tee.TDX, enabled, CA, CERT, URL));
    assertEquals(Optional.empty(), HostData.forVm(Tee.NONE, enabled, CA, CERT, URL));
  }
}
