package io.cvmmanager.attestation;

import static io.cvmmanager.attestation.IndependentCbor.at;
import static io.cvmmanager.attestation.IndependentCbor.hex;
import static io.cvmmanager.attestation.IndependentCbor.untag;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AttestationPolicy through the real gRPC API of a whole manager. Plain VMs run the real QEMU (dev profile);
 * SEV-SNP and TDX VMs run on a fake host tree (MANAGER_HOST_ROOT) with the QEMU stand-in of
 * src/test/resources/attestation (no SNP/TDX hardware here), the igvmmeasure stand-in, and are read back with
 * independent decoders: Python's cbor2 and openssl.
 */
class AttestationPolicyTest {
  private static final PortRange PORTS = TestPorts.range(10);
  static final Path QEMU_STANDIN =
      Path.of("src/test/resources/attestation/qemu-standin-for-sev-snp.py").toAbsolutePath();
  private static final String CVMS_URL = "cvms.example:7001";
  private static final byte[] SERVER_CA = "-----BEGIN CERTIFICATE-----\nserver CA\n".getBytes(StandardCharsets.UTF_8);
  private static final byte[] CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nclient\n".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  private static CreateReq createRequest() {
    return CreateReq.newBuilder()
        .setAgentCvmServerUrl(CVMS_URL)
        .setAgentCvmServerCaCert(ByteString.copyFrom(SERVER_CA))
        .setAgentCvmClientCert(ByteString.copyFrom(CLIENT_CERT))
        .setAgentCvmClientKey(ByteString.copyFromUtf8("-----BEGIN PRIVATE KEY-----\nkey\n"))
        .build();
  }

  private static UnaryCall.Result<AttestationPolicyRes> policy(TestManager manager, String id) {
    return manager.call("AttestationPolicy", AttestationPolicyReq.newBuilder().setId(id).build(),
        AttestationPolicyRes.newBuilder());
  }

  private static String created(TestManager manager) {
    UnaryCall.Result<io.cvmmanager.api.manager.CreateRes> created = manager.create(createRequest());
    assertEquals(GrpcStatus.OK, created.status(), created.message());
    return created.response().getCvmId();
  }

  private Path write(String relative, String text) throws Exception {
    Path file = dir.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  /** A host tree with KVM and the CPU flag and kvm module parameter of {@code flag}. */
  private Path fakeHost(String flag, String moduleParameter) throws Exception {
    write("host/dev/kvm", "");
    write("host/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 " + flag + "\n");
    write("host/" + moduleParameter, "Y\n");
    return dir.resolve("host");
  }

  private Map<String, String> teeSettings(Path host) {
    Map<String, String> env = new HashMap<>();
    env.put("MANAGER_HOST_ROOT", host.toString());
    env.put("MANAGER_QEMU_ENABLE_KVM", "true");
    env.put("MANAGER_QEMU_BIN_PATH", QEMU_STANDIN.toString());
    return env;
  }

  /**
   * SEV-SNP on a fake host: the stand-ins, an IGVM file, host data on, a signing key made by openssl (public half in
   * {@code corim.pub.pem}), one PCR value and a minimum launch TCB.
   */
  private Map<String, String> snpSettings() throws Exception {
    Path igvm = write("fw/coconut-qemu.igvm", "IGVM image of the guest, build 42");
    Path key = dir.resolve("corim.pem");
    IndependentCbor.run(dir, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
        key.toString());
    IndependentCbor.run(dir, "openssl", "pkey", "-in", key.toString(), "-pubout", "-out", "corim.pub.pem");
    Path pcrValues = write("pcr_values.json", "{\"pcr_values\":{\"sha256\":{\"0\":\"" + "ab".repeat(32) + "\"}}}");
    Map<String, String> env = teeSettings(fakeHost("sev sev_es sev_snp", "sys/module/kvm_amd/parameters/sev_snp"));
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    env.put("MANAGER_QEMU_IGVM_FILE", igvm.toString());
    env.put("MANAGER_IGVMMEASURE_BINARY", LaunchMeasurementTest.STANDIN.toString());
    env.put("MANAGER_QEMU_ENABLE_HOST_DATA", "true");
    env.put("MANAGER_CORIM_SIGNING_KEY", key.toString());
    env.put("MANAGER_PCR_VALUES", pcrValues.toString());
    env.put("MANAGER_SNP_MIN_LAUNCH_TCB", "0x1500000000000304");
    return env;
  }

  /** The stand-in's recorded arguments: the value after each {@code option}. */
  private static List<String> argumentsOf(TestManager manager, String id, String option) throws Exception {
    JsonArray argv = new JsonArray(Files.readString(manager.vmDir(id).resolve("standin-argv.json")));
    List<String> values = new java.util.ArrayList<>();
    for (int i = 0; i + 1 < argv.size(); i++) {
      if (option.equals(argv.getString(i))) {
        values.add(argv.getString(i + 1));
      }
    }
    return values;
  }

  private static Object measurement(JsonArray measurements, int key) {
    for (int i = 0; i < measurements.size(); i++) {
      if (Integer.valueOf(key).equals(at(measurements.getValue(i), 0))) {
        return measurements.getValue(i);
      }
    }
    throw new AssertionError("no measurement " + Integer.toHexString(key) + " in " + measurements.encode());
  }

  @Test
  void plainVmHasNoPolicyAndAnUnknownIdIsNotFound(@TempDir Path stateDir) throws Exception {
    // The fake QEMU: a VM without a TEE is all this needs, and a *Test starts no real QEMU.
    try (TestManager manager = TestManager.start(stateDir, PORTS, Map.of("MANAGER_QEMU_START_PAUSED", "true",
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir).toString()))) {
      String id = created(manager);
      UnaryCall.Result<AttestationPolicyRes> plain = policy(manager, id);
      assertEquals(GrpcStatus.FAILED_PRECONDITION, plain.status());
      assertEquals("VM " + id + " runs without a TEE; no attestation policy", plain.message());

      UnaryCall.Result<AttestationPolicyRes> unknown = policy(manager, "4b0f7f0e-0000-4000-8000-000000000000");
      assertEquals(GrpcStatus.NOT_FOUND, unknown.status());
      assertEquals("VM \"4b0f7f0e-0000-4000-8000-000000000000\" not found", unknown.message());
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }

  /** The launch measurement (0x1000) of a signed SEV-SNP policy, decoded by the independent decoder. */
  private byte[] launchDigest(UnaryCall.Result<AttestationPolicyRes> answer) throws Exception {
    assertEquals(GrpcStatus.OK, answer.status(), answer.message());
    JsonObject dump = IndependentCbor.dump(answer.response().getInfo().toByteArray(), dir);
    Object payload = ((JsonObject) ((JsonArray) untag(dump.getValue("item"), 18)).getValue(2)).getValue("cbor");
    Object comid = CorimEncoderTest.comid(new JsonObject().put("item", payload),
        "snp-corim-" + answer.response().getId());
    return HexFormat.of().parseHex(hex(at(measurement((JsonArray) at(comid, 4, 0, 0, 1), 0x1000), 1, 2, 0, 1)));
  }

  @Test
  void sevSnpPolicyStatesTheLaunchMeasurementAndTheHostDataQemuGotSigned(@TempDir Path stateDir)
      throws Exception {
    Path igvm = dir.resolve("fw/coconut-qemu.igvm");
    Map<String, String> env = snpSettings();
    try (TestManager manager = TestManager.startChecked(stateDir, PORTS, env)) {
      String id = created(manager);
      String snpObject = argumentsOf(manager, id, "-object").stream()
          .filter(o -> o.startsWith("sev-snp-guest,")).findFirst().orElseThrow();
      assertTrue(argumentsOf(manager, id, "-object").contains("igvm-cfg,id=igvm0,file=" + igvm),
          argumentsOf(manager, id, "-object").toString());
      assertTrue(argumentsOf(manager, id, "-machine").stream().anyMatch(m -> m.contains("igvm-cfg=igvm0")));
      String qemuHostData = snpObject.substring(snpObject.indexOf(",host-data=") + ",host-data=".length());
      assertEquals(Base64.getEncoder().encodeToString(HostData.derive(SERVER_CA, CLIENT_CERT, CVMS_URL)),
          qemuHostData);

      UnaryCall.Result<AttestationPolicyRes> answer = policy(manager, id);
      assertEquals(GrpcStatus.OK, answer.status(), answer.message());
      assertEquals(id, answer.response().getId());
      byte[] cose = answer.response().getInfo().toByteArray();

      Path signed = dir.resolve("policy.cose");
      Files.write(signed, cose);
      JsonObject verdict = new JsonObject(IndependentCbor.run(dir, "/usr/bin/python3",
          IndependentCbor.script("cose_verify.py"), signed.toString(), "corim.pub.pem", dir.toString()));
      assertEquals("Verified OK", verdict.getString("openssl"), verdict.encode());
      assertEquals(501, verdict.getInteger("payload_tag"));

      JsonObject dump = IndependentCbor.dump(cose, dir);
      Object payload = ((JsonObject) ((JsonArray) untag(dump.getValue("item"), 18)).getValue(2)).getValue("cbor");
      Object comid = CorimEncoderTest.comid(new JsonObject().put("item", payload), "snp-corim-" + id);
      assertEquals("snp-tag-" + id, at(comid, 1, 0));
      JsonArray triples = (JsonArray) at(comid, 4, 0);
      assertEquals(2, triples.size(), "the TEE's triple and the vTPM's");
      JsonArray measurements = (JsonArray) at(triples, 0, 1);

      Object launch = measurement(measurements, 0x1000);
      assertEquals(7, at(launch, 1, 2, 0, 0), "sha-384");
      byte[] expected = MessageDigest.getInstance("SHA-384").digest(Files.readAllBytes(igvm));
      assertEquals(HexFormat.of().formatHex(expected), hex(at(launch, 1, 2, 0, 1)), "the stand-in's digest");
      Object hostData = measurement(measurements, 0x1001);
      assertEquals(HexFormat.of().formatHex(Base64.getDecoder().decode(qemuHostData)),
          hex(untag(at(hostData, 1, 4), 560)), "the host data QEMU got");
      assertEquals("0403000000000015", hex(untag(at(measurement(measurements, 0x1003), 1, 4), 560)));

      assertEquals(GrpcStatus.OK, policy(manager, id).status());
      assertEquals(1, Files.readAllLines(Path.of(igvm + ".runs")).size(),
          "measured once, at CreateVm; the policies use that");

      // The IGVM file is replaced while the VM runs: its policy still states the file it was launched with, and a
      // new VM gets the new file's measurement.
      byte[] original = Files.readAllBytes(igvm);
      Files.write(igvm, "a rebuilt IGVM file".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      assertArrayEquals(expected, launchDigest(policy(manager, id)), "the running VM's own launch");
      String next = created(manager);
      assertArrayEquals(MessageDigest.getInstance("SHA-384").digest(Files.readAllBytes(igvm)),
          launchDigest(policy(manager, next)), "a VM launched after the change");
      Files.write(igvm, original);
      assertEquals(GrpcStatus.OK, manager.remove(next).status());

      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      assertEquals(GrpcStatus.NOT_FOUND, policy(manager, id).status());
    }
  }

  @Test
  void tdxPolicyStatesTheConfiguredRegisters(@TempDir Path stateDir) throws Exception {
    Map<String, String> env = teeSettings(fakeHost("vmx tdx_host_platform", "sys/module/kvm_intel/parameters/tdx"));
    env.put("MANAGER_QEMU_ENABLE_TDX", "true");
    env.put("MANAGER_QEMU_OVMF_FILE", write("fw/OVMF.fd", "TDX firmware").toString());
    env.put("MANAGER_TDX_MRTD", "5c".repeat(48));

    try (TestManager manager = TestManager.startChecked(stateDir, PORTS, env)) {
      String id = created(manager);
      assertTrue(argumentsOf(manager, id, "-object").stream().anyMatch(o -> o.contains("\"qom-type\":\"tdx-guest\"")),
          argumentsOf(manager, id, "-object").toString());
      assertEquals(Optional.empty(), argumentsOf(manager, id, "-object").stream()
          .filter(o -> o.contains("host-data")).findFirst());

      UnaryCall.Result<AttestationPolicyRes> answer = policy(manager, id);
      assertEquals(GrpcStatus.OK, answer.status(), answer.message());
      JsonObject dump = IndependentCbor.dump(answer.response().getInfo().toByteArray(), dir);
      Object comid = CorimEncoderTest.comid(dump, "tdx-corim-" + id);
      JsonArray triples = (JsonArray) at(comid, 4, 0);
      assertEquals(1, triples.size(), "no vTPM triple without PCR values");
      JsonArray measurements = (JsonArray) at(triples, 0, 1);
      assertEquals("5c".repeat(48), hex(at(measurement(measurements, 0x2000), 1, 2, 0, 1)), "MRTD");
      assertEquals("5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1",
          hex(at(measurement(measurements, 0x2001), 1, 2, 0, 1)), "MRSEAM, upstream's default");
      assertEquals("0".repeat(96), hex(at(measurement(measurements, 0x2013), 1, 2, 0, 1)), "RTMR3");

      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }

  private record Run(int exit, String out, String err) {}

  private static Run cvmctl(TestManager manager, String... args) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    int exit = io.cvmmanager.cli.Cvmctl.run(args, Map.of("MANAGER_GRPC_URL", "localhost:" + manager.config().grpc()
        .port()), new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
        new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void cvmctlWritesThePolicyThatCorimShowDecodesAndVerifies(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.startChecked(stateDir, PORTS, snpSettings())) {
      String id = created(manager);
      Path file = dir.resolve("policy.cbor");
      Run written = cvmctl(manager, "attestation-policy", id, "-o", file.toString());
      assertEquals(0, written.exit(), written.err());
      assertEquals("", written.out());
      byte[] fromRpc = policy(manager, id).response().getInfo().toByteArray();
      byte[] inFile = Files.readAllBytes(file);
      // ES256 signs with a fresh random nonce: the same policy, with its last 64 bytes (r||s) differing.
      assertEquals(fromRpc.length, inFile.length);
      assertEquals(HexFormat.of().formatHex(fromRpc, 0, fromRpc.length - 64),
          HexFormat.of().formatHex(inFile, 0, inFile.length - 64), "the file holds the policy's bytes");

      Run shown = cvmctl(manager, "corim", "show", file.toString(), "--key", dir.resolve("corim.pub.pem").toString());
      assertEquals(0, shown.exit(), shown.err());
      assertTrue(shown.out().contains("snp-corim-" + id), shown.out());
      assertTrue(shown.out().endsWith("signature: valid (ES256)\n"), shown.out());

      Run printed = cvmctl(manager, "attestation-policy", id);
      assertEquals(0, printed.exit(), printed.err());
      String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-384")
          .digest(Files.readAllBytes(dir.resolve("fw/coconut-qemu.igvm"))));
      for (String expected : List.of("snp-corim-" + id, digest)) {
        assertTrue(shown.out().contains(expected), "no " + expected + " in: " + shown.out());
        assertTrue(printed.out().contains(expected), "no " + expected + " in: " + printed.out());
      }
      assertTrue(printed.out().endsWith("signature: not checked (save it with -o, then: corim show FILE --key "
          + "PUBLIC_PEM)\n"), printed.out());

      Run unknown = cvmctl(manager, "attestation-policy", "4b0f7f0e-0000-4000-8000-000000000000");
      assertEquals(1, unknown.exit());
      assertTrue(unknown.err().startsWith("error: NOT_FOUND: "), unknown.err());
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }
}
