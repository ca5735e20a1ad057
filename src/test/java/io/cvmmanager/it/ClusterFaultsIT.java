package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.ClusterNodes;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.JarManagers;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A create in flight across nodes when one of them is killed (the packaged jar; B's QEMU is the FAKE one, holding
 * each create at its QMP greeting, a step real QEMU cannot be stopped at): afterwards a VM exists if and only if
 * its client received its id, and nothing of the others is left.
 */
class ClusterFaultsIT {
  private static final Duration VIEW = Duration.ofSeconds(20);

  @TempDir
  Path dir;
  private ClusterNodes cluster;

  @AfterEach
  void tearDown() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A full, so its create goes to B, held there: B killed, A tries C, and B returns with no VM of it. */
  @Test
  void aCreateWhoseOwnerIsKilledLandsOnTheNextNodeAndTheOwnerKeepsNothing() throws Exception {
    cluster = nodes();
    cluster.settings("b").put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, "hold=greeting").toString());
    cluster.startAll();
    String onA = cluster.create("a").response().getCvmId();

    Future<UnaryCall.Result<CreateRes>> inFlight = createAsync("a");
    FakeQemu.awaitHeldVm(cluster.node("b").stateDir(), "greeting");
    cluster.kill("b");
    UnaryCall.Result<CreateRes> answered = inFlight.await();
    assertEquals(GrpcStatus.OK, answered.status(), answered.message());
    String onC = answered.response().getCvmId();
    assertEquals("c", nodeOf(cluster.list("a"), onC), "tried the next node once B was lost");

    cluster.settings("b").put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir).toString());
    cluster.start("b");
    await().atMost(VIEW).untilAsserted(() -> {
      assertEquals(Set.of(onA, onC), ids(cluster.list("b")));
      assertEquals(List.of(), cluster.node("b").vmDirs());
      assertEquals(List.of(), cluster.node("b").qemuProcesses());
    });
    removeAndAssertNothingLeft(onA, onC);
  }

  /**
   * The create's entry node A is killed while B holds it: B finishes the VM, but its id never reached a client, so
   * B removes it once A is seen gone.
   */
  @Test
  void aCreateWhoseEntryNodeIsKilledIsRemovedByItsOwner() throws Exception {
    cluster = nodes();
    cluster.settings("b").put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, "hold=greeting").toString());
    cluster.startAll();
    String onA = cluster.create("a").response().getCvmId();

    Future<UnaryCall.Result<CreateRes>> inFlight = createAsync("a");
    Path held = FakeQemu.awaitHeldVm(cluster.node("b").stateDir(), "greeting");
    cluster.kill("a");
    // The client lost the manager it called: a failed status, or the stream closed under it.
    UnaryCall.Result<CreateRes> lost = inFlight.otherwise(e -> null).await();
    assertTrue(lost == null || lost.status() != GrpcStatus.OK, () -> lost.message());
    FakeQemu.release(held, "greeting");
    await().atMost(VIEW).untilAsserted(() -> {
      assertEquals(Set.of(onA), ids(cluster.list("b")), "only A's own VM, shown UNREACHABLE");
      assertEquals(List.of(), cluster.node("b").vmDirs());
      assertEquals(List.of(), cluster.node("b").qemuProcesses());
    });
    cluster.start("a");
    removeAndAssertNothingLeft(onA);
  }

  private ClusterNodes nodes() throws Exception {
    ClusterNodes nodes = new ClusterNodes(dir, List.of("a", "b", "c"), settings -> { });
    nodes.settings("a").put("MANAGER_MAX_VMS", "1");
    return nodes;
  }

  private Future<UnaryCall.Result<CreateRes>> createAsync(String node) {
    return cluster.node(node).call(JarManagers.MANAGER, "CreateVm", CreateReq.newBuilder()
        .setAgentCvmServerUrl("localhost:7001").build(), CreateRes.newBuilder());
  }

  private void removeAndAssertNothingLeft(String... ids) throws Exception {
    for (String id : ids) {
      await().atMost(VIEW).untilAsserted(() -> assertEquals(GrpcStatus.OK, cluster.node("c").remove(id).status()));
    }
    await().atMost(VIEW).untilAsserted(() -> assertEquals(Set.of(), ids(cluster.list("c"))));
    for (String node : List.of("a", "b", "c")) {
      cluster.node(node).assertNothingLeft();
    }
  }

  private static Set<String> ids(List<Vm> vms) {
    return vms.stream().map(Vm::getId).collect(Collectors.toSet());
  }

  private static String nodeOf(List<Vm> vms, String id) {
    return vms.stream().filter(vm -> vm.getId().equals(id)).findFirst().orElseThrow().getNode();
  }
}
