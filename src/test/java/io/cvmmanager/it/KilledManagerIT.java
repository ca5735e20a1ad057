package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.protobuf.Empty;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SIGKILL while creates are held at a step of the saga (the packaged jar, the fake QEMU holding each create just
 * after its spawn, before its QMP greeting, or at qmp_capabilities): every client of a held create sees it fail,
 * and the next manager removes those creates cut short — no VM exists whose create a client saw fail — and adopts
 * the VM whose create had answered; once that one is removed, nothing is left.
 */
class KilledManagerIT {
  private static final PortRange PORTS = TestPorts.range(20);
  private static final int HELD_CREATES = 3;

  @TempDir
  Path dir;
  private JarManagers managers;

  @AfterEach
  void tearDown() throws Exception {
    managers.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"start", "greeting", "qmp_capabilities"})
  void sigkillDuringHeldCreatesLeavesOnlyTheVmWhoseCreateAnswered(String step) throws Exception {
    managers = JarManagers.withFakeQemu(dir, PORTS.first(), PORTS.last(), "hold=" + step);
    ManagerProcess first = managers.start();

    Future<UnaryCall.Result<CreateRes>> answered = create();
    FakeQemu.release(FakeQemu.awaitHeldVm(managers.stateDir(), step), step);
    UnaryCall.Result<CreateRes> created = answered.await();
    assertEquals(GrpcStatus.OK, created.status(), created.message());
    String kept = created.response().getCvmId();

    List<Future<UnaryCall.Result<CreateRes>>> held = new ArrayList<>();
    for (int i = 0; i < HELD_CREATES; i++) {
      held.add(create());
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> FakeQemu.heldNow(managers.stateDir(), step).size() == HELD_CREATES);
    assertEquals(HELD_CREATES + 1, managers.vmDirs().size());

    first.kill();
    for (Future<UnaryCall.Result<CreateRes>> create : held) {
      // The stream ends without a status: a gRPC client library reports that as UNAVAILABLE.
      UnaryCall.Result<CreateRes> result = create.otherwise(e -> new UnaryCall.Result<>(GrpcStatus.UNAVAILABLE,
          e.toString(), List.of())).await();
      assertNotEquals(GrpcStatus.OK, result.status(), "a held create answered OK: " + result.message());
    }

    ManagerProcess second = managers.start();
    List<Vm> listed = managers.list();
    assertEquals(List.of(kept), listed.stream().map(Vm::getId).toList(),
        "only the VM whose create answered is adopted\n" + second.output());
    assertEquals(VmState.RUNNING, listed.get(0).getState());
    await().atMost(Duration.ofSeconds(30)).until(() -> managers.vmDirs().equals(List.of(kept))
        && managers.qemuProcesses().size() == 1);
    UnaryCall.Result<Empty> removed = managers.remove(kept);
    assertEquals(GrpcStatus.OK, removed.status(), removed.message());
    assertEquals(List.of(), managers.list(), "the table is empty");
    second.terminate();
    assertEquals(143, second.awaitExit(60));
    managers.assertNothingLeft();
  }

  private Future<UnaryCall.Result<CreateRes>> create() {
    return managers.call(JarManagers.MANAGER, "CreateVm", CreateReq.getDefaultInstance(), CreateRes.newBuilder());
  }
}
