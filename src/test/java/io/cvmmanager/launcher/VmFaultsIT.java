package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input and faults: each gives a clear gRPC status and leaves no QEMU, file or port behind (TestManager's
 * close asserts that; the tests also assert it right after the failed call). VMs start paused: no guest needed.
 */
class VmFaultsIT {
  @TempDir
  Path stateDir;

  private TestManager start(PortRange ports, Map<String, String> extra) throws Exception {
    Map<String, String> settings = new HashMap<>(Map.of("MANAGER_QEMU_START_PAUSED", "true",
        "MANAGER_QEMU_MEMORY_SIZE", "128M"));
    settings.putAll(extra);
    return TestManager.start(stateDir, ports, settings);
  }

  private static void assertStatus(GrpcStatus expected, UnaryCall.Result<?> result, String messagePart) {
    assertEquals(expected, result.status(), "status; message: " + result.message());
    assertTrue(result.message().contains(messagePart), "message \"" + result.message() + "\" lacks " + messagePart);
  }

  @Test
  void invalidTtlsAreRefusedBeforeAnythingIsMade() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      for (String ttl : List.of("abc", "-5s", "10", "0s", "1x")) {
        assertStatus(GrpcStatus.INVALID_ARGUMENT, manager.create(CreateReq.newBuilder().setTtl(ttl).build()), "ttl");
        manager.assertNothingLeft();
      }
    }
  }

  /** Go refuses non-ASCII digits; a TTL of 2,000,000 digits is refused at once and quoted by its start only. */
  @Test
  void ttlsGoWouldRefuseAreRefusedAtOnceAndQuotedShort() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      for (String ttl : List.of("\u0661h", "\uff11h", "9".repeat(2_000_000) + "ns")) {
        long started = System.nanoTime();
        UnaryCall.Result<?> result = manager.create(CreateReq.newBuilder().setTtl(ttl).build());
        assertTrue(System.nanoTime() - started < 5_000_000_000L, "took " + (System.nanoTime() - started) + " ns");
        assertStatus(GrpcStatus.INVALID_ARGUMENT, result, "ttl");
        assertTrue(result.message().length() < 200, result.message());
        manager.assertNothingLeft();
      }
    }
  }

  /** The refusal is logged (text format, as the dev profile and these tests have it) with the value escaped. */
  @Test
  void aTtlWithALineBreakCannotForgeALogLine() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      PrintStream stderr = System.err;
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      try {
        assertStatus(GrpcStatus.INVALID_ARGUMENT,
            manager.create(CreateReq.newBuilder().setTtl("1x\nFORGED line\u0000").build()), "ttl");
      } finally {
        System.setErr(stderr);
      }
      String log = captured.toString(StandardCharsets.UTF_8);
      assertTrue(log.contains("1x\\nFORGED line\\u0000"), log);
      assertTrue(log.lines().noneMatch(line -> line.startsWith("FORGED")) && log.indexOf('\u0000') < 0, log);
    }
  }

  @Test
  void valuesThatCouldInjectIntoTheEnvironmentFileAreRefused() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      assertStatus(GrpcStatus.INVALID_ARGUMENT,
          manager.create(CreateReq.newBuilder().setAgentLogLevel("info\nAWS_REGION=x").build()), "agent_log_level");
      assertStatus(GrpcStatus.INVALID_ARGUMENT,
          manager.create(CreateReq.newBuilder().setAgentCvmServerUrl("a'; reboot; '").build()),
          "agent_cvm_server_url");
      assertStatus(GrpcStatus.INVALID_ARGUMENT,
          manager.create(CreateReq.newBuilder().setAwsSecretAccessKey("s\u0000").build()), "aws_secret_access_key");
      assertStatus(GrpcStatus.INVALID_ARGUMENT,
          manager.create(CreateReq.newBuilder().setAaKbsParams("x console=tty0").build()), "aa_kbs_params");
      manager.assertNothingLeft();
    }
  }

  @Test
  void unknownAndEmptyIdsAreNotFoundAndInvalid() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      assertStatus(GrpcStatus.NOT_FOUND, manager.remove("4b0f7f0e-0000-4000-8000-000000000000"), "not found");
      assertStatus(GrpcStatus.NOT_FOUND, manager.remove("../../etc"), "not found");
      assertStatus(GrpcStatus.INVALID_ARGUMENT, manager.remove(""), "empty");
    }
  }

  @Test
  void maxVmsIsResourceExhaustedUntilOneIsRemoved() throws Exception {
    try (TestManager manager = start(TestPorts.range(5), Map.of("MANAGER_MAX_VMS", "2"))) {
      String first = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      String second = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      assertStatus(GrpcStatus.RESOURCE_EXHAUSTED, manager.create(CreateReq.getDefaultInstance()), "MANAGER_MAX_VMS");
      assertEquals(GrpcStatus.OK, manager.remove(first).status());
      String third = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      assertEquals(GrpcStatus.OK, manager.remove(second).status());
      assertEquals(GrpcStatus.OK, manager.remove(third).status());
    }
  }

  @Test
  void exhaustedPortRangeIsResourceExhaustedAndPortsHeldByOthersAreSkipped() throws Exception {
    PortRange ports = TestPorts.range(2);
    try (ServerSocket other = new ServerSocket()) {
      other.bind(new InetSocketAddress("0.0.0.0", ports.first()));
      try (TestManager manager = start(ports, Map.of("MANAGER_MAX_VMS", "0"))) {
        CreateRes only = manager.create(CreateReq.getDefaultInstance()).response();
        assertEquals(String.valueOf(ports.last()), only.getForwardedPort(),
            ports.first() + " is held by another program");
        assertStatus(GrpcStatus.RESOURCE_EXHAUSTED, manager.create(CreateReq.getDefaultInstance()), ports.toString());
        assertEquals(GrpcStatus.OK, manager.remove(only.getCvmId()).status());
        other.close();
      }
    }
  }

  @Test
  void missingQemuBinaryIsFailedPrecondition() throws Exception {
    try (TestManager manager = start(TestPorts.range(2),
        Map.of("MANAGER_QEMU_BIN_PATH", stateDir.resolve("no-such-qemu").toString()))) {
      assertStatus(GrpcStatus.FAILED_PRECONDITION, manager.create(CreateReq.getDefaultInstance()), "QEMU");
      manager.assertNothingLeft();
    }
  }

  @Test
  void missingOvmfVarsFileIsFailedPrecondition() throws Exception {
    try (TestManager manager = start(TestPorts.range(2),
        Map.of("MANAGER_QEMU_OVMF_VARS_FILE", stateDir.resolve("no-such-OVMF_VARS.fd").toString()))) {
      assertStatus(GrpcStatus.FAILED_PRECONDITION, manager.create(CreateReq.getDefaultInstance()),
          "MANAGER_QEMU_OVMF_VARS_FILE");
      manager.assertNothingLeft();
    }
  }

  @Test
  void anOvmfVarsSourceThatIsADirectoryOrADanglingLinkIsFailedPreconditionNamingVariableAndPath() throws Exception {
    Path directory = Files.createDirectory(stateDir.resolve("OVMF_VARS-a-directory"));
    Path dangling = Files.createSymbolicLink(stateDir.resolve("OVMF_VARS-dangling"), stateDir.resolve("gone.fd"));
    for (Path source : List.of(directory, dangling)) {
      try (TestManager manager = start(TestPorts.range(2), Map.of("MANAGER_QEMU_OVMF_VARS_FILE", source.toString()))) {
        UnaryCall.Result<?> result = manager.create(CreateReq.getDefaultInstance());
        assertStatus(GrpcStatus.FAILED_PRECONDITION, result, "MANAGER_QEMU_OVMF_VARS_FILE");
        assertStatus(GrpcStatus.FAILED_PRECONDITION, result, source.toString());
        manager.assertNothingLeft();
      }
    }
    Files.delete(dangling);
    Files.delete(directory);
  }

  @Test
  void failingQemuImgOnABadReferenceImageIsFailedPrecondition() throws Exception {
    byte[] corrupt = new byte[512];
    // qcow2 magic, version 3, cluster size 2^0: qemu-img refuses it ("Unsupported cluster size").
    System.arraycopy(new byte[] {'Q', 'F', 'I', (byte) 0xfb, 0, 0, 0, 3}, 0, corrupt, 0, 8);
    Path corruptImage = Files.write(stateDir.resolve("corrupt.qcow2"), corrupt);
    for (Path reference : List.of(corruptImage, stateDir.resolve("missing.qcow2"))) {
      try (TestManager manager = start(TestPorts.range(2), Map.of("MANAGER_QEMU_ENABLE_DISK", "true",
          "MANAGER_QEMU_SRC_DISK_FILE", reference.toString()))) {
        assertStatus(GrpcStatus.FAILED_PRECONDITION, manager.create(CreateReq.getDefaultInstance()),
            reference.getFileName().toString());
        manager.assertNothingLeft();
      }
    }
    Files.delete(corruptImage);
  }

  @Test
  void qemuExitingAtOnceIsFailedPreconditionWithItsMessage() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of("MANAGER_QEMU_MACHINE", "no-such-machine"))) {
      assertStatus(GrpcStatus.FAILED_PRECONDITION, manager.create(CreateReq.getDefaultInstance()),
          "unsupported machine type");
      manager.assertNothingLeft();
    }
  }

  @Test
  void certificatesOfSeveralMegabytesAreHandedOver() throws Exception {
    byte[] big = new byte[3 * 1024 * 1024];
    java.util.Arrays.fill(big, (byte) 'A');
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      String id = manager.create(CreateReq.newBuilder().setAgentCvmServerCaCert(ByteString.copyFrom(big)).build())
          .response().getCvmId();
      assertEquals(big.length, Files.size(manager.vmDir(id).resolve("certs/ca.pem")));
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }

  @Test
  void twoConcurrentRemovesOfOneVmGiveOneOkAndOneNotFound() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      Future<UnaryCall.Result<Empty>> a = manager.removeAsync(id);
      Future<UnaryCall.Result<Empty>> b = manager.removeAsync(id);
      Future.all(a, b).await();
      Set<GrpcStatus> statuses = Set.of(a.result().status(), b.result().status());
      assertEquals(Set.of(GrpcStatus.OK, GrpcStatus.NOT_FOUND), statuses);
    }
  }

  @Test
  void concurrentCreatesGetDistinctPorts() throws Exception {
    try (TestManager manager = start(TestPorts.range(20), Map.of("MANAGER_MAX_VMS", "0"))) {
      List<Future<UnaryCall.Result<CreateRes>>> creates = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        creates.add(manager.createAsync(CreateReq.getDefaultInstance()));
      }
      Future.all(creates).await();
      Set<String> ports = new HashSet<>();
      for (Future<UnaryCall.Result<CreateRes>> create : creates) {
        ports.add(create.result().response().getForwardedPort());
      }
      assertEquals(8, ports.size(), "ports " + ports);
      for (Future<UnaryCall.Result<CreateRes>> create : creates) {
        assertEquals(GrpcStatus.OK, manager.remove(create.result().response().getCvmId()).status());
      }
    }
  }

  @Test
  void ttlExpiryRemovesTheVm() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      String id = manager.create(CreateReq.newBuilder().setTtl("1.5s").build()).response().getCvmId();
      assertEquals(GrpcStatus.OK, manager.info(id).status());
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        assertEquals(GrpcStatus.NOT_FOUND, manager.info(id).status());
        manager.assertNothingLeft();
      });
    }
  }

  @Test
  void aVmWhoseQemuIsKilledReleasesEverything() throws Exception {
    try (TestManager manager = start(TestPorts.range(2), Map.of())) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      long pid = Long.parseLong(Files.readString(manager.vmDir(id).resolve("qemu.pid")).trim());
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      await().atMost(Duration.ofSeconds(20)).ignoreException(IOException.class).untilAsserted(() -> {
        assertEquals(GrpcStatus.NOT_FOUND, manager.info(id).status());
        manager.assertNothingLeft();
      });
    }
  }
}
