package io.cvmmanager.attestation;

import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.vm.Tee;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Optional;

/**
 * SEV-SNP host data: 32 bytes the host binds to a VM at launch (QEMU's {@code sev-snp-guest,host-data=}), which the
 * VM's attestation report carries and its policy states. MANAGER_QEMU_HOST_DATA when set; otherwise derived from the
 * VM's security-relevant create fields, so a report proves which CVMS and which certificates the VM was made for.
 *
 * <p>The derivation is SHA3-256 over, in this order, each field as a 4-byte big-endian length then its bytes:
 * the label {@value #LABEL} (UTF-8), the server CA certificate, the client certificate, the CVMS URL (UTF-8). The
 * lengths make the encoding unambiguous (no two different field triples give the same input); the label keeps the
 * digest apart from any other use of the same fields.
 */
public final class HostData {
  public static final String LABEL = "cvm-manager/sev-snp-host-data/v1";
  public static final int BYTES = 32;

  private HostData() {}

  /** The 32 bytes derived from a VM's create fields. */
  public static byte[] derive(byte[] serverCaCert, byte[] clientCert, String cvmsUrl) {
    MessageDigest sha3;
    try {
      sha3 = MessageDigest.getInstance("SHA3-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA3-256 (JDK 9 and later always do)", e);
    }
    field(sha3, LABEL.getBytes(StandardCharsets.UTF_8));
    field(sha3, serverCaCert);
    field(sha3, clientCert);
    field(sha3, cvmsUrl.getBytes(StandardCharsets.UTF_8));
    return sha3.digest();
  }

  /**
   * The host data of a new VM, base64 as QEMU takes it: none unless the VM runs SEV-SNP with
   * MANAGER_QEMU_ENABLE_HOST_DATA on; then MANAGER_QEMU_HOST_DATA when set, else {@link #derive}.
   */
  public static Optional<String> forVm(Tee tee, QemuConfig.SevSnp snp, byte[] serverCaCert, byte[] clientCert,
      String cvmsUrl) {
    if (tee != Tee.SEV_SNP || !snp.enableHostData()) {
      return Optional.empty();
    }
    return Optional.of(snp.hostData()
        .orElseGet(() -> Base64.getEncoder().encodeToString(derive(serverCaCert, clientCert, cvmsUrl))));
  }

  private static void field(MessageDigest digest, byte[] bytes) {
    digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
    digest.update(bytes);
  }
}
