package io.cvmmanager.cluster;

import io.cvmmanager.config.ClusterConfig.PlacementPolicy;
import io.cvmmanager.vm.Tee;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a new VM may go, best first, from the node records as the entry node last read them. Pure. The records may
 * be a few seconds old, so this only orders the candidates: each owner admits or refuses with its own accounts, and
 * a refusal makes the entry node try the next one (two entry nodes placing at once cannot overfill a third).
 */
public final class NodePlacement {
  private static final long MIB = 1L << 20;

  private NodePlacement() {}

  /** What the VM needs, as the entry node sizes it (its configuration and the request's sizes). */
  public record Need(long memoryBytes, int vcpus, Tee tee, boolean gpu) {}

  /** A node and why it is out of the running, when it is. */
  public record Candidate(NodeRecord node, boolean trusted) {}

  /**
   * The candidates that fit, best first by {@code policy}; {@code shortages} gets, for each node that does not,
   * one line naming the first thing it is short of.
   */
  public static List<String> order(List<Candidate> candidates, Need need, PlacementPolicy policy, String entry,
      List<String> shortages) {
    List<NodeRecord> fitting = new ArrayList<>();
    for (Candidate candidate : candidates.stream().sorted(Comparator.comparing(c -> c.node().name())).toList()) {
      Optional<String> shortOf = shortOf(candidate, need);
      if (shortOf.isPresent()) {
        shortages.add(candidate.node().name() + ": " + shortOf.get());
      } else {
        fitting.add(candidate.node());
      }
    }
    Comparator<NodeRecord> byFreeMemory = Comparator.comparingLong(NodePlacement::freeMemory);
    Comparator<NodeRecord> order = switch (policy) {
      case PACK -> byFreeMemory.thenComparing(NodeRecord::name);
      case SPREAD -> byFreeMemory.reversed().thenComparing(NodeRecord::name);
      case LOCAL_FIRST -> Comparator.<NodeRecord, Boolean>comparing(n -> !n.name().equals(entry))
          .thenComparing(byFreeMemory.reversed()).thenComparing(NodeRecord::name);
    };
    return fitting.stream().sorted(order).map(NodeRecord::name).toList();
  }

  /** The first thing {@code candidate} lacks for {@code need}; empty when it fits. */
  static Optional<String> shortOf(Candidate candidate, Need need) {
    NodeRecord node = candidate.node();
    if (!candidate.trusted()) {
      return Optional.of("not trusted (its event bus did not answer with a certificate from our CA)");
    }
    if (!NodeRecord.READY.equals(node.state())) {
      return Optional.of(node.state());
    }
    if (node.tee() != need.tee()) {
      return Optional.of("TEE " + node.tee() + ", not " + need.tee());
    }
    OptionalLong memory = node.free("memory");
    if (memory.isPresent() && memory.getAsLong() < need.memoryBytes()) {
      return Optional.of("memory: " + need.memoryBytes() / MIB + " MiB asked, " + memory.getAsLong() / MIB
          + " MiB free");
    }
    OptionalLong vcpus = node.free("vcpus");
    if (vcpus.isPresent() && vcpus.getAsLong() < need.vcpus()) {
      return Optional.of("vCPUs: " + need.vcpus() + " asked, " + vcpus.getAsLong() + " free");
    }
    if (need.tee() != Tee.NONE) {
      String contexts = (need.tee() == Tee.SEV_SNP ? "sev-snp" : "tdx") + "-contexts";
      OptionalLong free = node.free(contexts);
      if (free.isPresent() && free.getAsLong() < 1) {
        return Optional.of(contexts + ": none free");
      }
    }
    if (need.gpu() && node.free("gpus").orElse(0) < 1) {
      return Optional.of("GPUs: none free");
    }
    OptionalLong vms = node.free("vms");
    if (vms.isPresent() && vms.getAsLong() < 1) {
      return Optional.of("vms: " + node.vmCount() + " of MANAGER_MAX_VMS " + node.maxVms() + " running");
    }
    return Optional.empty();
  }

  private static long freeMemory(NodeRecord node) {
    return node.free("memory").orElse(Long.MAX_VALUE);
  }
}
