package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.LogLine;
import io.cvmmanager.api.cvm.StreamLogsRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.AgentProbe;
import io.cvmmanager.testing.ClusterNodes;
import io.cvmmanager.testing.JarManagers;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three packaged managers clustered on loopback (distinct ports, disjoint HOST_FWD_RANGEs and state dirs), real
 * QEMU, called through upstream's proto: placement past a full node, calls for a VM served from a node that does
 * not own it, the agent reached through the called node's relay, and a node killed with -9 and restarted.
 */
class ClusterIT {
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

  private static Set<String> ids(List<Vm> vms) {
    return vms.stream().map(Vm::getId).collect(Collectors.toSet());
  }

  private static Optional<Vm> find(List<Vm> vms, String id) {
    return vms.stream().filter(vm -> vm.getId().equals(id)).findFirst();
  }

  /**
   * A is full (MAX_VMS 1, one paused VM): a CreateVm sent to A lands on B, a booted dev guest whose agent answers
   * through A's relayed port; CVMInfo and RemoveVm for it sent to C work, and nothing of it is left.
   */
  @Test
  void createAtAFullNodeLandsElsewhereAndIsServedFromEveryNode() throws Exception {
    cluster = new ClusterNodes(dir, List.of("a", "b", "c"), settings -> { });
    cluster.settings("a").put("MANAGER_MAX_VMS", "1");
    cluster.settings("b").put("MANAGER_QEMU_START_PAUSED", "false");
    cluster.settings("b").put("MANAGER_QEMU_MEMORY_SIZE", "512M");
    cluster.startAll();

    String onA = cluster.create("a").response().getCvmId();
    await().atMost(VIEW).untilAsserted(() -> assertEquals("a", find(cluster.list("c"), onA).orElseThrow()
        .getNode()));

    CreateRes placed = await().atMost(VIEW).ignoreExceptions().until(() -> cluster.create("a").response(),
        res -> !res.getCvmId().isEmpty());
    String onB = placed.getCvmId();
    Vm seenAtA = find(cluster.list("a"), onB).orElseThrow();
    assertEquals("b", seenAtA.getNode(), "placed past the full node, on the first of the others by name");
    int relay = Integer.parseInt(placed.getForwardedPort());
    assertEquals(relay, seenAtA.getRelayPort());
    assertNotEquals(relay, seenAtA.getPort(), "the client was given A's relay, not B's forwarded port");
    String[] range = cluster.settings("a").get("MANAGER_QEMU_HOST_FWD_RANGE").split("-");
    assertTrue(relay >= Integer.parseInt(range[0]) && relay <= Integer.parseInt(range[1]), "from A's range");

    // The agent of the guest on B answers at A's relayed port.
    String line = await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
        .until(() -> AgentProbe.readLine(relay), Optional::isPresent).get();
    assertTrue(line.startsWith("cvm-agent ready id=" + onB), line);

    // The relay is A's: A restarted reopens it on the same port.
    cluster.stop("a");
    cluster.start("a");
    await().atMost(VIEW).pollInterval(Duration.ofMillis(500)).until(() -> AgentProbe.readLine(relay)
        .filter(l -> l.startsWith("cvm-agent ready id=" + onB)).isPresent());

    // Its console, followed from C: the tail so far, then the end of the VM, said in a last line.
    List<LogLine> logs = Collections.synchronizedList(new ArrayList<>());
    cluster.node("c").stream(JarManagers.CVM, "StreamLogs", StreamLogsRequest.newBuilder().setId(onB)
        .setFollow(true).setTail(500).build(), LogLine.newBuilder(), (LogLine l) -> logs.add(l)).await();
    await().atMost(VIEW).until(() -> List.copyOf(logs).stream().anyMatch(l -> l.getLine().contains("cvm-guest: up")));

    UnaryCall.Result<CVMInfoRes> info = cluster.node("c").<CVMInfoReq, CVMInfoRes>call(JarManagers.MANAGER,
        "CVMInfo", CVMInfoReq.newBuilder().setId(onB).build(), CVMInfoRes.newBuilder()).await();
    assertEquals(onB, info.response().getId());
    assertEquals(GrpcStatus.OK, cluster.node("c").remove(onB).status());
    await().atMost(VIEW).untilAsserted(() -> {
      LogLine last = logs.get(logs.size() - 1);
      assertEquals("manager", last.getStream());
      assertTrue(last.getLine().startsWith("the VM ended"), last.getLine());
    });
    await().atMost(VIEW).untilAsserted(() -> {
      assertEquals(Set.of(onA), ids(cluster.list("a")));
      assertEquals(Set.of(onA), ids(cluster.list("c")));
    });
    assertEquals(List.of(), cluster.node("b").vmDirs());
    await().atMost(VIEW).until(() -> AgentProbe.readLine(relay).isEmpty());

    UnaryCall.Result<?> unknown = cluster.node("b").remove("no-such-vm");
    assertEquals(GrpcStatus.NOT_FOUND, unknown.status(), unknown.message());
    assertEquals(GrpcStatus.OK, cluster.node("b").remove(onA).status(), "A's VM removed through B");
    for (String node : List.of("a", "b", "c")) {
      cluster.node(node).assertNothingLeft();
    }
  }

  /**
   * B killed with -9: A and C show its VM UNREACHABLE, new creates avoid B, and RemoveVm of its VM is UNAVAILABLE
   * naming it; B restarted adopts it, it is RUNNING again everywhere and removable from A.
   */
  @Test
  void aKilledNodesVmsAreUnreachableUntilItReturns() throws Exception {
    cluster = new ClusterNodes(dir, List.of("a", "b", "c"), settings -> { });
    cluster.startAll();
    String onB = cluster.create("b").response().getCvmId();
    await().atMost(VIEW).untilAsserted(() -> assertEquals(VmState.RUNNING,
        find(cluster.list("a"), onB).orElseThrow().getState()));

    List<LogLine> logs = Collections.synchronizedList(new ArrayList<>());
    cluster.node("a").stream(JarManagers.CVM, "StreamLogs", StreamLogsRequest.newBuilder().setId(onB)
        .setFollow(true).build(), LogLine.newBuilder(), (LogLine l) -> logs.add(l)).await();
    await().atMost(VIEW).until(() -> cluster.process("b").output().contains("vm " + onB
        + ": console followed by node a"));

    cluster.kill("b");
    // A follower of its console is told, in a last line, that the owner left.
    await().atMost(VIEW).until(() -> !logs.isEmpty());
    assertEquals("node b, which owns VM " + onB + ", left the cluster", logs.get(logs.size() - 1).getLine());
    await().atMost(VIEW).untilAsserted(() -> {
      assertEquals(VmState.UNREACHABLE, find(cluster.list("a"), onB).orElseThrow().getState());
      assertEquals(VmState.UNREACHABLE, find(cluster.list("c"), onB).orElseThrow().getState());
    });
    UnaryCall.Result<?> refused = cluster.node("a").remove(onB);
    assertEquals(GrpcStatus.UNAVAILABLE, refused.status(), refused.message());
    assertTrue(refused.message().contains("node b"), refused.message());
    for (int i = 0; i < 3; i++) {
      String id = cluster.create("c").response().getCvmId();
      assertNotEquals("b", find(cluster.list("a"), id).orElseThrow().getNode());
      UnaryCall.Result<?> removed = cluster.node("a").remove(id);
      assertEquals(GrpcStatus.OK, removed.status(), removed.message());
    }

    cluster.start("b");
    await().atMost(VIEW).untilAsserted(() -> {
      assertEquals(VmState.RUNNING, find(cluster.list("a"), onB).orElseThrow().getState());
      assertEquals(VmState.RUNNING, find(cluster.list("c"), onB).orElseThrow().getState());
    });
    await().atMost(VIEW).untilAsserted(() -> assertEquals(GrpcStatus.OK, cluster.node("a").remove(onB).status()));
    await().atMost(VIEW).untilAsserted(() -> assertEquals(Set.of(), ids(cluster.list("c"))));
    for (String node : List.of("a", "b", "c")) {
      cluster.node(node).assertNothingLeft();
    }
  }
}
