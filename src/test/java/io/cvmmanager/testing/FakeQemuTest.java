package io.cvmmanager.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole manager runs VMs on the fake QEMU as on a real one, and a hold stops a create at the chosen step. */
class FakeQemuTest {
  @TempDir
  Path stateDir;

  private TestManager start(int port, String... faults) throws Exception {
    return TestManager.start(stateDir, new PortRange(port, port),
        Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir, faults).toString()));
  }

  @Test
  void createRunsAndRemoveEndsTheFake() throws Exception {
    try (TestManager manager = start(27200)) {
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
    try (TestManager manager = start(27201, "hold=qmp_capabilities")) {
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

  private static String state(TestManager manager, String id) {
    UnaryCall.Result<Vm> info = manager.call("cvm.v1.CvmService", "GetVm",
        GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder());
    assertEquals(GrpcStatus.OK, info.status(), info.message());
    return info.response().getState().name();
  }
}
