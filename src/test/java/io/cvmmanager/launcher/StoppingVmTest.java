package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Empty;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM being removed stays visible with its real state: while its (fake) QEMU sits on the ACPI powerdown, ListVms,
 * GetVm and {@code cvm_vms{state="STOPPING"}} show it STOPPING and it still counts against MANAGER_MAX_VMS, while
 * upstream's calls already answer NOT_FOUND; once QEMU has gone it is STOPPED and gone. Its state.json lists
 * exactly the files of its mode.
 */
class StoppingVmTest {
  private static final String CVM = "cvm.v1.CvmService";

  @TempDir
  Path stateDir;

  @Test
  void aVmBeingRemovedIsListedStoppingUntilItsQemuIsGone() throws Exception {
    Map<String, String> settings = Map.of("MANAGER_QEMU_BIN_PATH",
        FakeQemu.binary(stateDir, "hold=system_powerdown").toString(), "MANAGER_QEMU_STOP_GRACE", "20s",
        "MANAGER_MAX_VMS", "1");
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2), settings)) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      Path vmDir = manager.vmDir(id);
      assertEquals(List.of("OVMF_VARS.fd", "certs", "console.log", "env", "qemu.pid", "qmp.sock", "state.json"),
          recordedFiles(vmDir), "state.json files of a kernel-boot VM without a TEE");

      Future<UnaryCall.Result<Empty>> removal = manager.removeAsync(id);
      FakeQemu.awaitHeld(vmDir, "system_powerdown");
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        assertEquals(List.of(VmState.STOPPING), states(manager));
        assertEquals(1.0, manager.metrics().value("cvm_vms", Map.of("state", "STOPPING")));
      });
      assertEquals(VmState.STOPPING, getVm(manager, id).response().getState());
      assertEquals(GrpcStatus.NOT_FOUND, manager.remove(id).status(), "a removal already accepted");
      assertEquals(GrpcStatus.NOT_FOUND, manager.info(id).status());
      assertEquals(GrpcStatus.NOT_FOUND, manager.call("AttestationPolicy",
          AttestationPolicyReq.newBuilder().setId(id).build(), AttestationPolicyRes.newBuilder()).status());
      assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, manager.create(CreateReq.getDefaultInstance()).status(),
          "its QEMU still runs: it counts against MANAGER_MAX_VMS");

      FakeQemu.release(vmDir, "system_powerdown");
      assertEquals(GrpcStatus.OK, removal.await().status());
      assertEquals(List.of(), states(manager));
      assertEquals(GrpcStatus.NOT_FOUND, getVm(manager, id).status());
      assertEquals(0.0, manager.metrics().value("cvm_vms", Map.of("state", "STOPPING")));
      manager.assertNothingLeft();
    }
  }

  private static List<String> recordedFiles(Path vmDir) throws Exception {
    JsonObject state = new JsonObject(Files.readString(vmDir.resolve("state.json")));
    return state.getJsonArray("files").stream().map(f -> Path.of((String) f))
        .peek(f -> assertEquals(vmDir, f.getParent(), "inside the VM's directory"))
        .map(f -> f.getFileName().toString()).sorted().toList();
  }

  private static List<VmState> states(TestManager manager) {
    return manager.<ListVmsRequest, ListVmsResponse>call(CVM, "ListVms", ListVmsRequest.getDefaultInstance(),
        ListVmsResponse.newBuilder()).response().getVmsList().stream().map(Vm::getState).toList();
  }

  private static UnaryCall.Result<Vm> getVm(TestManager manager, String id) {
    return manager.call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder());
  }
}
