package io.cvmmanager.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.InvalidConfigException;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmView;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** PolicyInput from configuration, the tool's measurement and the VM, for each TEE. */
class PolicyAssemblyTest {
  private static final String ID = "4b0f7f0e-0000-4000-8000-000000000001";
  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] MEASUREMENT = HEX.parseHex("5a".repeat(48));
  private static final byte[] HOST_DATA = HEX.parseHex("0123456789abcdef".repeat(4));
  private static final PcrValues PCR = PcrValues.parse(
      "{\"pcr_values\":{\"sha256\":{\"7\":\"" + "77".repeat(32) + "\"}}}");

  private static ManagerConfig config(Map<String, String> values) throws InvalidConfigException {
    return ConfigParser.parse(values, Path.of("/root"), true);
  }

  private static VmView vm(Tee tee, Optional<String> hostData) {
    return new VmView(ID, VmState.RUNNING, 6100, 4242, Instant.parse("2026-11-28T12:00:00Z"), Optional.empty(),
        "kernel", tee, false, false, "console=null", hostData, "", Optional.empty(), Optional.empty(), 1,
        1L << 30, Optional.empty(), "");
  }

  @Test
  void sevSnpStatesTheMeasurementHostDataMinimumTcbAndPcrs() throws InvalidConfigException {
    ManagerConfig config = config(Map.of("MANAGER_QEMU_CPU", "EPYC-v4", "MANAGER_SNP_MIN_LAUNCH_TCB", "0x1b"));
    PolicyInput input = PolicyAssembly.input(
        vm(Tee.SEV_SNP, Optional.of(Base64.getEncoder().encodeToString(HOST_DATA))), config,
        Optional.of(MEASUREMENT), PCR);

    assertEquals(ID, input.vmId());
    assertEquals(Tee.SEV_SNP, input.tee());
    assertEquals("EPYC-v4", input.cpuModel());
    assertArrayEquals(MEASUREMENT, input.measurement());
    assertArrayEquals(HOST_DATA, input.hostData().orElseThrow());
    assertEquals(0x1b, input.minLaunchTcb());
    assertEquals(Optional.empty(), input.svn());
    assertEquals(List.of(), input.tdxRegisters());
    assertEquals(PCR, input.pcrValues());
  }

  @Test
  void sevSnpWithoutHostDataStatesNone() throws InvalidConfigException {
    PolicyInput input = PolicyAssembly.input(vm(Tee.SEV_SNP, Optional.empty()), config(Map.of()),
        Optional.of(MEASUREMENT), PcrValues.NONE);
    assertEquals(Optional.empty(), input.hostData());
    assertEquals(0, input.minLaunchTcb());
    assertTrue(input.pcrValues().isEmpty());
  }

  @Test
  void sevSnpNeedsAMeasurement() {
    assertThrows(IllegalArgumentException.class, () -> PolicyAssembly.input(vm(Tee.SEV_SNP, Optional.empty()),
        config(Map.of()), Optional.empty(), PcrValues.NONE));
  }

  @Test
  void tdxStatesTheConfiguredRegisters() throws InvalidConfigException {
    String rtmrs = String.join(",", "01".repeat(48), "02".repeat(48), "03".repeat(48), "04".repeat(48));
    ManagerConfig config = config(Map.of("MANAGER_QEMU_CPU", "host", "MANAGER_TDX_MRTD", "aa".repeat(48),
        "MANAGER_TDX_MRSEAM", "bb".repeat(48), "MANAGER_TDX_RTMRS", rtmrs, "MANAGER_SNP_MIN_LAUNCH_TCB", "9"));
    PolicyInput input = PolicyAssembly.input(vm(Tee.TDX, Optional.empty()), config, Optional.empty(), PCR);

    assertEquals(Tee.TDX, input.tee());
    assertEquals("host", input.cpuModel());
    assertEquals("aa".repeat(48), HEX.formatHex(input.measurement()), "MRTD is the TDX measurement");
    assertEquals(List.of("MRSEAM", "RTMR0", "RTMR1", "RTMR2", "RTMR3"),
        input.tdxRegisters().stream().map(PolicyInput.TdxRegister::name).toList());
    assertEquals(List.of("bb".repeat(48), "01".repeat(48), "02".repeat(48), "03".repeat(48), "04".repeat(48)),
        input.tdxRegisters().stream().map(r -> HEX.formatHex(r.value())).toList());
    assertEquals(Optional.empty(), input.hostData());
    assertEquals(0, input.minLaunchTcb(), "the SEV-SNP minimum TCB is no part of a TDX policy");
    assertEquals(PCR, input.pcrValues());
  }

  @Test
  void theCpuModelTheVmWasLaunchedWithWinsOverTodaysConfiguration() throws InvalidConfigException {
    VmView launchedEarlier = new VmView(ID, VmState.RUNNING, 6100, 4242, Instant.parse("2026-11-28T12:00:00Z"),
        Optional.empty(), "kernel", Tee.TDX, false, false, "console=null", Optional.empty(), "EPYC-Milan",
        Optional.empty(), Optional.empty(), 1, 1L << 30, Optional.empty(), "");
    PolicyInput input = PolicyAssembly.input(launchedEarlier, config(Map.of("MANAGER_QEMU_CPU", "EPYC-v4")),
        Optional.empty(), PcrValues.NONE);
    assertEquals("EPYC-Milan", input.cpuModel());
  }

  @Test
  void tdxDefaultsAreUpstreamsValues() throws InvalidConfigException {
    PolicyInput input = PolicyAssembly.input(vm(Tee.TDX, Optional.empty()), config(Map.of()), Optional.empty(),
        PcrValues.NONE);
    assertEquals("91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7",
        HEX.formatHex(input.measurement()));
    assertEquals("0".repeat(96), HEX.formatHex(input.tdxRegisters().get(4).value()), "RTMR3 is zero");
  }

  @Test
  void aVmWithoutTeeHasNoPolicy() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PolicyAssembly.input(vm(Tee.NONE, Optional.empty()), config(Map.of()), Optional.empty(),
            PcrValues.NONE));
    assertEquals("VM " + ID + " runs without a TEE; no attestation policy", e.getMessage());
  }
}
