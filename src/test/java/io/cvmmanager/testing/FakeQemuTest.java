package io.cvmmanager.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole manager runs VMs on the fake QEMU as on a real one, and a hold stops a create at the chosen step. */
class FakeQemuTest {
  @TempDir
  Path stateDir;

  private TestManager start(String... faults) throws Exception {
    return start(Map.of(), faults);
  }

  private TestManager start(Map<String, String> extra, String... faults) throws Exception {
    Map<String, String> settings = new HashMap<>(extra);
    settings.put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir, faults).toString());
    return TestManager.start(stateDir, TestPorts.range(1), settings);
  }

  @Test
  void createRunsAndRemoveEndsTheFake() throws Exception {
    try (TestManager manager = start()) {
      UnaryCall.Result<CreateRes> created = manager.create(CreateReq.getDefaultInstance());
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      String id = created.response().getCvmId();
      assertEquals("RUNNING", state(manager, id));
      assertEquals(1, manager.qemuProcesses().size(), "the fake runs as the VM's QEMU");
      assertEquals(manager.qemuProcesses().get(0).toString(),
          Files.readString(manager.vmDir(id).resolve("qemu.pid")).strip(), "its pid file names it");
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      manager.assertNothingLeft();
    }
  }

  @Test
  void aHoldAtQmpCapabilitiesKeepsTheCreateUnansweredUntilReleased() throws Exception {
    try (TestManager manager = start("hold=qmp_capabilities")) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "qmp_capabilities");
      FakeQemu.awaitHeld(vmDir, "qmp_capabilities");
      String id = vmDir.getFileName().toString();
      assertEquals("STARTING", state(manager, id));
      assertFalse(create.isComplete(), "CreateVm answered while QEMU held the handshake");
      FakeQemu.release(vmDir, "qmp_capabilities");
      UnaryCall.Result<CreateRes> created = create.await();
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      assertEquals(id, created.response().getCvmId());
      assertEquals("RUNNING", state(manager, id));
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      manager.assertNothingLeft();
    }
  }

  @Test
  void aHoldBeforeTheGreetingWorksLikeOneAtACommand() throws Exception {
    try (TestManager manager = start("hold=greeting")) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "greeting");
      assertFalse(create.isComplete(), "CreateVm answered before QEMU greeted");
      FakeQemu.release(vmDir, "greeting");
      UnaryCall.Result<CreateRes> created = create.await();
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      assertEquals(GrpcStatus.OK, manager.remove(created.response().getCvmId()).status());
      manager.assertNothingLeft();
    }
  }

  /** Powerdown, quit and SIGTERM ignored: the stop sequence ends with SIGKILL, and nothing is left. */
  @Test
  void aFakeThatIgnoresPowerdownQuitAndSigtermIsKilled() throws Exception {
    try (TestManager manager = start(Map.of("MANAGER_QEMU_STOP_GRACE", "0s"),
        "ignore-powerdown", "ignore-quit", "ignore-sigterm")) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      long started = System.nanoTime();
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertTrue(took.compareTo(Duration.ofSeconds(9)) > 0, "quit and SIGTERM each waited for; took " + took);
      manager.assertNothingLeft();
    }
  }

  /** A fake that dies by itself, as a crashing QEMU does: the VM is gone, and so is everything it had. */
  @Test
  void aFakeThatDiesEndsItsVm() throws Exception {
    try (TestManager manager = start("die-after=1500")) {
      UnaryCall.Result<CreateRes> created = manager.create(CreateReq.getDefaultInstance());
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      String id = created.response().getCvmId();
      await().atMost(Duration.ofSeconds(20)).until(() -> manager.<GetVmRequest, Vm>call("cvm.v1.CvmService", "GetVm",
          GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder()).status() == GrpcStatus.NOT_FOUND);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(manager::assertNothingLeft);
    }
  }

  private static String state(TestManager manager, String id) {
    UnaryCall.Result<Vm> info = manager.call("cvm.v1.CvmService", "GetVm",
        GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder());
    assertEquals(GrpcStatus.OK, info.status(), info.message());
    return info.response().getState().name();
  }
}
