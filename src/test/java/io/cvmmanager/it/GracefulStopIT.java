package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Empty;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.JarManagers;
import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SIGTERM while creates are under way (the packaged jar, the fake QEMU holding each create at one step: just after
 * its spawn, before its QMP greeting, or at qmp_capabilities):
 * the manager drains as grpc-go's GracefulStop does — a new call is refused with UNAVAILABLE, the creates under way
 * finish and their clients get their ids — and then exits. Run with a client that fails streams ending after a
 * GOAWAY (Vert.x's): the drain must not send one before the replies. The VMs that exist afterwards are exactly those whose
 * ids the clients got, and the next manager adopts every one of them and removes them on request.
 */
class GracefulStopIT {
  private static final PortRange PORTS = TestPorts.range(20);
  private static final int CREATES = 10;

  @TempDir
  Path dir;
  private JarManagers managers;
  private Path stateDir;

  @AfterEach
  void tearDown() throws Exception {
    managers.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"start", "greeting", "qmp_capabilities"})
  void sigtermDuringCreatesAnswersThemAndLeavesExactlyTheVmsWhoseIdsClientsGot(String step) throws Exception {
    managers = JarManagers.withFakeQemu(dir, PORTS.first(), PORTS.last(), "hold=" + step);
    managers.settings().put("MANAGER_MAX_VMS", "30");
    stateDir = managers.stateDir();
    ManagerProcess first = managers.start();
    List<Future<UnaryCall.Result<CreateRes>>> creates = new ArrayList<>();
    for (int i = 0; i < CREATES; i++) {
      creates.add(call("CreateVm", CreateReq.getDefaultInstance(), CreateRes.newBuilder()));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> FakeQemu.heldNow(stateDir, step).size() == CREATES);

    first.terminate();
    await().atMost(Duration.ofSeconds(20)).until(() -> first.output().contains("draining: waiting for"));
    // Draining: a new call is refused, while the ones under way go on.
    UnaryCall.Result<CreateRes> late = this.<CreateReq, CreateRes>call("CreateVm", CreateReq.getDefaultInstance(),
        CreateRes.newBuilder()).await();
    assertEquals(GrpcStatus.UNAVAILABLE, late.status(), late.message());
    FakeQemu.heldNow(stateDir, step).forEach(vmDir -> FakeQemu.release(vmDir, step));

    Set<String> received = new TreeSet<>();
    for (Future<UnaryCall.Result<CreateRes>> create : creates) {
      UnaryCall.Result<CreateRes> result = create.toCompletionStage().toCompletableFuture().get();
      assertEquals(GrpcStatus.OK, result.status(), result.message() + "\n" + first.output());
      received.add(result.response().getCvmId());
    }
    assertEquals(143, first.awaitExit(60), "exit status after SIGTERM");
    assertEquals(CREATES, received.size());
    assertEquals(received, new TreeSet<>(managers.vmDirs()), "the VMs left are those whose ids the clients got");
    assertEquals(CREATES, managers.qemuProcesses().size(), "their QEMUs run on");

    ManagerProcess second = managers.start();
    Set<String> listed = managers.list().stream().filter(vm -> vm.getState() == io.cvmmanager.api.cvm.VmState.RUNNING)
        .map(Vm::getId).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(received, listed, "the next manager adopts every one of them");
    for (String id : received) {
      UnaryCall.Result<Empty> removed = managers.remove(id);
      assertEquals(GrpcStatus.OK, removed.status(), removed.message());
    }
    second.terminate();
    assertEquals(143, second.awaitExit(60));
    managers.assertNothingLeft();
  }

  private <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
      Future<UnaryCall.Result<Resp>> call(String method, Req request, com.google.protobuf.Message.Builder response) {
    return managers.call(JarManagers.MANAGER, method, request, response);
  }
}
