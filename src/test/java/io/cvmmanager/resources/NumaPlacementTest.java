package io.cvmmanager.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.resources.Placement.Plan;
import io.cvmmanager.resources.Placement.Share;
import io.cvmmanager.testing.FakeHostTree;
import io.cvmmanager.vm.Tee;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NUMA nodes read from fake sysfs trees of 1, 2 and 4 nodes, and where the ledger places VMs on them. */
class NumaPlacementTest {
  private static final long MIB = 1L << 20;

  @TempDir
  Path root;

  /** A host of {@code nodes} nodes of {@code nodeMib} each, four CPUs apiece; no memory kept back. */
  private HostInventory host(int nodes, long nodeMib) {
    FakeHostTree tree = new FakeHostTree(root).memTotal(nodes * nodeMib * MIB).cpusOnline("0-" + (4 * nodes - 1));
    for (int n = 0; n < nodes; n++) {
      tree.numaNode(n, (4 * n) + "-" + (4 * n + 3), nodeMib * MIB);
    }
    return HostInventoryReader.read(root, root.resolve("state"), 0, "");
  }

  private static ResourceLedger ledger(HostInventory host) {
    return new ResourceLedger(host, new ResourceLedger.Ratios(1.0, 16.0));
  }

  private static Demand vm(long mib, Tee tee) {
    return new Demand(mib * MIB, 1, tee, false, 0);
  }

  private static Placement placement(Plan plan, long... nodeAndMib) {
    List<Share> shares = new java.util.ArrayList<>();
    for (int i = 0; i < nodeAndMib.length; i += 2) {
      shares.add(new Share((int) nodeAndMib[i], nodeAndMib[i + 1] * MIB));
    }
    return new Placement(plan, shares);
  }

  @Test
  void nodesAreReadWithTheirCpusAndMemory() {
    HostInventory host = host(2, 4096);
    assertEquals(List.of(new NumaNode(0, "0-3", 4096 * MIB), new NumaNode(1, "4-7", 4096 * MIB)), host.numaNodes());
    assertEquals(host.numaNodes(), HostInventory.fromJson(host.toJson()).numaNodes(), "over the bus");
  }

  @Test
  void aNodeWithoutMemTotalMakesTheNodesUnknown() {
    new FakeHostTree(root).numaNode(0, "0-3", 4096 * MIB).numaNode(1, "4-7", 4096 * MIB)
        .file("sys/devices/system/node/node1/meminfo", "Node 1 MemFree: 1 kB\n");
    HostInventory host = HostInventoryReader.read(root, root.resolve("state"), 0, "");
    assertEquals(List.of(), host.numaNodes());
    assertTrue(host.warnings().stream().anyMatch(w -> w.contains("node1") && w.contains("MemTotal")),
        host.warnings().toString());
  }

  @Test
  void aOneNodeHostPlacesNothing() {
    HostInventory host = host(1, 8192);
    assertEquals(1, host.numaNodes().size());
    ResourceLedger ledger = ledger(host);
    assertEquals(Placement.NONE, ledger.admit("a", vm(2048, Tee.NONE)).placement());
    assertEquals(Placement.NONE, ledger.admit("b", vm(2048, Tee.SEV_SNP)).placement());
    assertTrue(ledger.view(Tee.NONE, 2, 0).resource("memory-node0").isEmpty(), "no per-node rows");
  }

  @Test
  void numaOffPlacesNothingOnSeveralNodes() {
    ResourceLedger ledger = new ResourceLedger(host(2, 4096), new ResourceLedger.Ratios(1.0, 16.0), false);
    assertEquals(Placement.NONE, ledger.admit("a", vm(2048, Tee.NONE)).placement());
  }

  @Test
  void eachVmGoesToTheNodeWithTheMostFreeMemoryThatFitsIt() {
    ResourceLedger ledger = ledger(host(2, 4096));
    assertEquals(placement(Plan.BIND, 0, 3072), ledger.admit("a", vm(3072, Tee.NONE)).placement(),
        "equals: the lowest node");
    assertEquals(placement(Plan.BIND, 1, 1024), ledger.admit("b", vm(1024, Tee.NONE)).placement());
    assertEquals(placement(Plan.BIND, 1, 2048), ledger.admit("c", vm(2048, Tee.SEV_SNP)).placement());
    HostView view = ledger.view(Tee.NONE, 3, 0);
    assertEquals(new HostView.Resource("memory-node0", "bytes", OptionalLong.of(4096 * MIB), 3072 * MIB,
        OptionalLong.of(1024 * MIB)), view.resource("memory-node0").orElseThrow());
    assertEquals(3072 * MIB, view.resource("memory-node1").orElseThrow().allocated());
  }

  @Test
  void aFullNodeIsPassedOverAndReleasingGivesItsMemoryBack() {
    ResourceLedger ledger = ledger(host(4, 2048));
    for (String id : List.of("a", "b", "c")) {
      ledger.admit(id, vm(2048, Tee.NONE));
    }
    assertEquals(placement(Plan.BIND, 3, 2048), ledger.admit("d", vm(2048, Tee.NONE)).placement(),
        "nodes 0 to 2 are full");
    ledger.release("b");
    assertEquals(placement(Plan.BIND, 1, 1024), ledger.admit("e", vm(1024, Tee.NONE)).placement());
  }

  @Test
  void aPlainVmThatFitsNoSingleNodeIsSpreadOverTheFreestNodes() {
    ResourceLedger ledger = ledger(host(4, 2048));
    ledger.admit("a", vm(1536, Tee.NONE));
    ledger.admit("b", vm(1024, Tee.NONE));
    // Free: node 0 512, node 1 1024, nodes 2 and 3 2048.
    assertEquals(placement(Plan.SPREAD, 2, 2048, 3, 1024), ledger.admit("c", vm(3072, Tee.NONE)).placement());
    // Free: node 0 512, node 1 1024, node 3 1024: all three, the freest first.
    assertEquals(placement(Plan.SPREAD, 1, 1024, 3, 1024, 0, 512), ledger.admit("d", vm(2560, Tee.NONE))
        .placement());
  }

  @Test
  void aTeeVmThatFitsNoSingleNodeIsInterleaved() {
    ResourceLedger ledger = ledger(host(2, 2048));
    assertEquals(placement(Plan.INTERLEAVE, 0, 2048, 1, 1024), ledger.admit("a", vm(3072, Tee.SEV_SNP))
        .placement());
  }

  @Test
  void whatFitsNoNodesTogetherIsRefusedNamingMemory() {
    ResourceLedger ledger = ledger(host(2, 2048));
    ledger.admit("a", vm(3072, Tee.NONE));
    ManagerException e = assertThrows(ManagerException.class, () -> ledger.admit("b", vm(2048, Tee.NONE)));
    assertEquals(ErrorKind.RESOURCE_EXHAUSTED, e.kind());
    assertEquals("memory: 2048 MiB asked, 1024 MiB free of 4096 MiB", e.getMessage());
    assertTrue(ledger.claimOf("b").isEmpty());
  }

  @Test
  void anAdoptedVmHoldsItsNodesMemory() {
    ResourceLedger ledger = ledger(host(2, 2048));
    ledger.adopt(new Claim("old", 2048 * MIB, 1, Tee.NONE, java.util.Optional.empty(), 0,
        placement(Plan.BIND, 0, 2048)));
    assertEquals(placement(Plan.BIND, 1, 1024), ledger.admit("new", vm(1024, Tee.NONE)).placement());
  }
}
