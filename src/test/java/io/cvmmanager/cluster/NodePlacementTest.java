package io.cvmmanager.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cvmmanager.config.ClusterConfig.PlacementPolicy;
import io.cvmmanager.resources.HostView;
import io.cvmmanager.vm.Tee;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The order a CreateVm tries the nodes in, and the line for each node that does not fit. */
class NodePlacementTest {
  private static final long GIB = 1L << 30;
  private static final NodePlacement.Need TWO_GIB = new NodePlacement.Need(2 * GIB, 2, Tee.NONE, false);

  private static NodePlacement.Candidate node(String name, long freeMemoryGib, long freeVcpus, long freeVms) {
    return node(name, Tee.NONE, NodeRecord.READY, true, freeMemoryGib, freeVcpus, freeVms);
  }

  private static NodePlacement.Candidate node(String name, Tee tee, String state, boolean trusted,
      long freeMemoryGib, long freeVcpus, long freeVms) {
    HostView resources = new HostView(List.of(
        new HostView.Resource("memory", "bytes", OptionalLong.of(64 * GIB), 64 * GIB - freeMemoryGib * GIB,
            OptionalLong.of(freeMemoryGib * GIB)),
        new HostView.Resource("vcpus", "count", OptionalLong.of(16), 16 - freeVcpus, OptionalLong.of(freeVcpus)),
        new HostView.Resource("gpus", "count", OptionalLong.of(0), 0, OptionalLong.of(0)),
        new HostView.Resource("vms", "count", OptionalLong.of(10), 10 - freeVms, OptionalLong.of(freeVms))),
        List.of(), List.of());
    return new NodePlacement.Candidate(new NodeRecord(name, name + ":7001", name + ":7003", name, tee, resources,
        (int) (10 - freeVms), 10, state, Instant.EPOCH), trusted);
  }

  private static List<String> order(PlacementPolicy policy, List<String> shortages,
      NodePlacement.Candidate... candidates) {
    return NodePlacement.order(List.of(candidates), TWO_GIB, policy, "a", shortages);
  }

  @Test
  void localFirstPrefersTheEntryNodeThenMostFreeMemory() {
    assertEquals(List.of("a", "c", "b"), order(PlacementPolicy.LOCAL_FIRST, new ArrayList<>(),
        node("b", 4, 8, 5), node("c", 8, 8, 5), node("a", 3, 8, 5)));
  }

  @Test
  void spreadTakesMostFreeMemoryFirst() {
    assertEquals(List.of("c", "b", "a"), order(PlacementPolicy.SPREAD, new ArrayList<>(),
        node("a", 3, 8, 5), node("b", 4, 8, 5), node("c", 8, 8, 5)));
  }

  @Test
  void packTakesTheFullestThatFitsFirst() {
    List<String> shortages = new ArrayList<>();
    assertEquals(List.of("a", "b", "c"), order(PlacementPolicy.PACK, shortages,
        node("c", 8, 8, 5), node("a", 2, 8, 5), node("b", 4, 8, 5), node("d", 1, 8, 5)));
    assertEquals(List.of("d: memory: 2048 MiB asked, 1024 MiB free"), shortages);
  }

  @Test
  void equalNodesGoByName() {
    assertEquals(List.of("b", "c"), order(PlacementPolicy.SPREAD, new ArrayList<>(),
        node("c", 4, 8, 5), node("b", 4, 8, 5)));
  }

  @Test
  void eachNodeThatDoesNotFitIsNamedWithWhatItLacks() {
    List<String> shortages = new ArrayList<>();
    assertEquals(List.of(), order(PlacementPolicy.LOCAL_FIRST, shortages,
        node("a", 8, 8, 0),
        node("b", 8, 1, 5),
        node("c", 1, 8, 5),
        node("d", Tee.SEV_SNP, NodeRecord.READY, true, 8, 8, 5),
        node("e", Tee.NONE, NodeRecord.DRAINING, true, 8, 8, 5),
        node("f", Tee.NONE, NodeRecord.READY, false, 8, 8, 5)));
    assertEquals(List.of(
        "a: vms: 10 of MANAGER_MAX_VMS 10 running",
        "b: vCPUs: 2 asked, 1 free",
        "c: memory: 2048 MiB asked, 1024 MiB free",
        "d: TEE SEV_SNP, not NONE",
        "e: draining",
        "f: not trusted (its event bus did not answer with a certificate from our CA)"), shortages);
  }

  @Test
  void aTeeVmNeedsAFreeContext() {
    NodePlacement.Need snp = new NodePlacement.Need(GIB, 1, Tee.SEV_SNP, false);
    HostView noContexts = new HostView(List.of(new HostView.Resource("sev-snp-contexts", "count",
        OptionalLong.of(4), 4, OptionalLong.of(0))), List.of(), List.of());
    NodePlacement.Candidate full = new NodePlacement.Candidate(new NodeRecord("a", "", "", "", Tee.SEV_SNP,
        noContexts, 4, 0, NodeRecord.READY, Instant.EPOCH), true);
    List<String> shortages = new ArrayList<>();
    assertEquals(List.of(), NodePlacement.order(List.of(full), snp, PlacementPolicy.SPREAD, "a", shortages));
    assertEquals(List.of("a: sev-snp-contexts: none free"), shortages);
  }
}
