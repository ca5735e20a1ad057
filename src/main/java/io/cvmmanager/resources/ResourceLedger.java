package io.cvmmanager.resources;

import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.Tee;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongUnaryOperator;
import java.util.stream.Collectors;

/**
 * Admission by accounting: what each VM holds against what the host has. One writer (the launcher's event loop), so
 * concurrent creates are admitted one after the other and never over-admit. Limits: memory within capacity ×
 * MANAGER_MEMORY_OVERCOMMIT, but a TEE VM's memory (private, pinned) never beyond the capacity itself; vCPUs within
 * host CPUs × MANAGER_CPU_OVERCOMMIT; contexts and GPUs within what is free; disk within the free space less what
 * admitted disks will still take. A resource the host does not tell about limits nothing.
 *
 * <p>On a host of several NUMA nodes (unless MANAGER_NUMA=off) memory is accounted per node too, and each VM is
 * placed ({@link Placement}): on the node with the most free memory that fits it, else spread over the nodes with
 * the most free memory. A node's capacity is its MemTotal less its part of MANAGER_HOST_RESERVED_MEMORY (the nodes
 * share the host's capacity in proportion to their memory), with the same overcommit as the host's.
 */
public final class ResourceLedger {
  private static final long MIB = 1L << 20;

  /** The overcommit ratios: MANAGER_MEMORY_OVERCOMMIT and MANAGER_CPU_OVERCOMMIT. */
  public record Ratios(double memory, double cpu) {}

  private final Ratios ratios;
  /** MANAGER_NUMA=auto: VMs are placed on nodes when the host has several. */
  private final boolean placeOnNodes;
  private HostInventory inventory;
  private final Map<String, Claim> claims = new LinkedHashMap<>();
  /** Disk bytes admitted since the inventory was read: not yet in its free space. */
  private long diskSinceRead;
  /**
   * Contexts other guests of the host used when it was read: the misc cgroup's count less ours then. Fixed per
   * reading: a VM admitted after it is not in that count, one released after it still is.
   */
  private final Map<Tee, Integer> othersAtRead = new EnumMap<>(Tee.class);

  /** A ledger that places VMs on NUMA nodes (MANAGER_NUMA=auto). */
  public ResourceLedger(HostInventory inventory, Ratios ratios) {
    this(inventory, ratios, true);
  }

  /** @param placeOnNodes MANAGER_NUMA=auto (true) or off */
  public ResourceLedger(HostInventory inventory, Ratios ratios, boolean placeOnNodes) {
    this.ratios = ratios;
    this.placeOnNodes = placeOnNodes;
    update(inventory);
  }

  /** A fresh reading of the host. */
  public void update(HostInventory fresh) {
    inventory = fresh;
    diskSinceRead = 0;
    for (Tee tee : List.of(Tee.SEV_SNP, Tee.TDX)) {
      othersAtRead.put(tee, contextPool(tee).map(pool -> Math.max(0, pool.inUse() - ours(tee))).orElse(0));
    }
  }

  /**
   * Admits a new VM, or RESOURCE_EXHAUSTED naming every resource that is short and by how much (INVALID_ARGUMENT for
   * a GPU asked for by an address the host does not have).
   */
  public Claim admit(String vmId, Demand demand) {
    Optional<String> wanted = demand.gpu() ? demand.gpuBdf().map(this::poolGpu) : Optional.empty();
    List<String> shortages = shortages(demand);
    if (!shortages.isEmpty()) {
      throw new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, String.join("; ", shortages));
    }
    Placement placement = place(demand);
    Optional<String> gpu = demand.gpu() ? wanted.or(() -> freeGpus().stream().findFirst()) : Optional.empty();
    Claim claim = new Claim(vmId, demand.memoryBytes(), demand.vcpus(), demand.tee(), gpu, demand.diskBytes(),
        placement);
    claims.put(vmId, claim);
    diskSinceRead += demand.diskBytes();
    return claim;
  }

  /**
   * Takes back what an adopted VM holds, as its record says, even past what the host now has (it runs already: the
   * excess only keeps new VMs out).
   */
  public void adopt(Claim claim) {
    claims.put(claim.vmId(), claim);
    // It ran when the host was read, so the reading counted it among the others' contexts.
    othersAtRead.computeIfPresent(claim.tee(), (tee, others) -> Math.max(0, others - 1));
  }

  public void release(String vmId) {
    claims.remove(vmId);
  }

  public Optional<Claim> claimOf(String vmId) {
    return Optional.ofNullable(claims.get(vmId));
  }

  /**
   * The accounts as they stand, for a VM of {@code tee} (whose memory limit depends on it): per resource what the
   * host has, what is held and what is free; {@code vms} of {@code maxVms} (0: no limit) in the table.
   */
  public HostView view(Tee tee, int vms, int maxVms) {
    List<HostView.Resource> resources = new ArrayList<>();
    long memoryHeld = claims.values().stream().mapToLong(Claim::memoryBytes).sum();
    resources.add(limited("memory", "bytes", inventory.memoryBytes(), memoryHeld,
        capacity -> memoryLimit(tee, capacity)));
    int vcpusHeld = claims.values().stream().mapToInt(Claim::vcpus).sum();
    OptionalLong cpus = inventory.cpus().isPresent() ? OptionalLong.of(inventory.cpus().getAsInt())
        : OptionalLong.empty();
    resources.add(limited("vcpus", "count", cpus, vcpusHeld, this::vcpuLimit));
    for (Tee kind : List.of(Tee.SEV_SNP, Tee.TDX)) {
      Optional<ContextPool> pool = contextPool(kind);
      resources.add(new HostView.Resource(contextName(kind) + "-contexts", "count",
          pool.map(p -> OptionalLong.of(p.capacity())).orElse(OptionalLong.empty()), ours(kind),
          pool.map(p -> OptionalLong.of(freeContexts(kind, p))).orElse(OptionalLong.empty())));
    }
    int gpus = inventory.gpus().size();
    resources.add(new HostView.Resource("gpus", "count", OptionalLong.of(gpus), gpus - freeGpus().size(),
        OptionalLong.of(freeGpus().size())));
    long diskHeld = claims.values().stream().mapToLong(Claim::diskBytes).sum();
    resources.add(new HostView.Resource("disk", "bytes", inventory.diskFreeBytes(), diskHeld,
        inventory.diskFreeBytes().isPresent()
            ? OptionalLong.of(Math.max(0, inventory.diskFreeBytes().getAsLong() - diskSinceRead))
            : OptionalLong.empty()));
    resources.add(maxVms > 0 ? new HostView.Resource("vms", "count", OptionalLong.of(maxVms), vms,
        OptionalLong.of(Math.max(0, maxVms - vms)))
        : new HostView.Resource("vms", "count", OptionalLong.empty(), vms, OptionalLong.empty()));
    for (NumaNode node : placementNodes()) {
      resources.add(new HostView.Resource("memory-node" + node.id(), "bytes", OptionalLong.of(nodeCapacity(node)),
          nodeHeld(node), OptionalLong.of(nodeFree(tee, node))));
    }
    Map<String, String> holders = new LinkedHashMap<>();
    claims.values().forEach(claim -> claim.gpu().ifPresent(bdf -> holders.put(bdf, claim.vmId())));
    List<HostView.GpuUse> gpuUses = inventory.gpus().stream()
        .map(gpu -> new HostView.GpuUse(gpu.bdf(), gpu.iommuGroup(), Optional.ofNullable(holders.get(gpu.bdf()))))
        .toList();
    return new HostView(resources, gpuUses, inventory.warnings());
  }

  /**
   * Where a VM that fits the host goes: the node with the most free memory that fits it (the lowest id of equals),
   * else the nodes with the most free memory, each giving what it has free (whole MiB), until the VM's memory is
   * placed; RESOURCE_EXHAUSTED when even all nodes together cannot hold it.
   */
  private Placement place(Demand demand) {
    List<NumaNode> nodes = placementNodes();
    if (nodes.isEmpty()) {
      return Placement.NONE;
    }
    List<NumaNode> byFree = nodes.stream()
        .sorted(Comparator.comparingLong((NumaNode n) -> nodeFree(demand.tee(), n)).reversed()
            .thenComparingInt(NumaNode::id))
        .toList();
    long memory = demand.memoryBytes();
    NumaNode best = byFree.get(0);
    if (nodeFree(demand.tee(), best) >= memory) {
      return new Placement(Placement.Plan.BIND, List.of(new Placement.Share(best.id(), memory)));
    }
    List<Placement.Share> shares = new ArrayList<>();
    long left = memory;
    for (NumaNode node : byFree) {
      long free = nodeFree(demand.tee(), node);
      long share = free >= left ? left : free / MIB * MIB;
      if (share > 0) {
        shares.add(new Placement.Share(node.id(), share));
        left -= share;
      }
      if (left == 0) {
        return new Placement(demand.tee() == Tee.NONE ? Placement.Plan.SPREAD : Placement.Plan.INTERLEAVE, shares);
      }
    }
    long free = nodes.stream().mapToLong(n -> nodeFree(demand.tee(), n)).sum();
    throw new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, "memory: " + memory / MIB + " MiB asked, "
        + free / MIB + " MiB free on NUMA nodes " + nodes.stream().map(n -> String.valueOf(n.id()))
        .collect(Collectors.joining(", ")));
  }

  /** The nodes VMs are placed on: the host's when it has several and MANAGER_NUMA is auto, else none. */
  private List<NumaNode> placementNodes() {
    return placeOnNodes && inventory.numaNodes().size() > 1 ? inventory.numaNodes() : List.of();
  }

  /** The node's part of the host's memory capacity, in proportion to its MemTotal among the nodes'. */
  private long nodeCapacity(NumaNode node) {
    long nodesTotal = inventory.numaNodes().stream().mapToLong(NumaNode::memoryBytes).sum();
    return inventory.memoryBytes().isPresent() && nodesTotal > 0
        ? (long) (node.memoryBytes() * ((double) inventory.memoryBytes().getAsLong() / nodesTotal))
        : node.memoryBytes();
  }

  private long nodeHeld(NumaNode node) {
    return claims.values().stream().mapToLong(c -> c.placement().memoryOn(node.id())).sum();
  }

  private long nodeFree(Tee tee, NumaNode node) {
    return Math.max(0, memoryLimit(tee, nodeCapacity(node)) - nodeHeld(node));
  }

  private static HostView.Resource limited(String name, String unit, OptionalLong capacity, long held,
      LongUnaryOperator limitOf) {
    return new HostView.Resource(name, unit, capacity, held, capacity.isPresent()
        ? OptionalLong.of(Math.max(0, limitOf.applyAsLong(capacity.getAsLong()) - held)) : OptionalLong.empty());
  }

  private long memoryLimit(Tee tee, long capacity) {
    return tee == Tee.NONE ? (long) (capacity * ratios.memory()) : capacity;
  }

  private long vcpuLimit(long cpus) {
    return (long) (cpus * ratios.cpu());
  }

  private List<String> shortages(Demand demand) {
    List<String> shortages = new ArrayList<>();
    long memoryHeld = claims.values().stream().mapToLong(Claim::memoryBytes).sum();
    inventory.memoryBytes().ifPresent(capacity -> {
      long limit = memoryLimit(demand.tee(), capacity);
      long free = Math.max(0, limit - memoryHeld);
      if (demand.memoryBytes() > free) {
        shortages.add("memory: " + demand.memoryBytes() / MIB + " MiB asked, " + free / MIB + " MiB free of "
            + limit / MIB + " MiB" + (demand.tee() != Tee.NONE && ratios.memory() > 1
                ? " (TEE memory is not overcommitted)" : ""));
      }
    });
    int vcpusHeld = claims.values().stream().mapToInt(Claim::vcpus).sum();
    inventory.cpus().ifPresent(cpus -> {
      long limit = vcpuLimit(cpus);
      long free = Math.max(0, limit - vcpusHeld);
      if (demand.vcpus() > free) {
        shortages.add("vCPUs: " + demand.vcpus() + " asked, " + free + " free of " + limit + " (" + cpus
            + " host CPUs × MANAGER_CPU_OVERCOMMIT " + ratios.cpu() + ")");
      }
    });
    if (demand.tee() != Tee.NONE) {
      contextPool(demand.tee()).ifPresent(pool -> {
        int free = freeContexts(demand.tee(), pool);
        if (free < 1) {
          shortages.add(contextName(demand.tee()) + " contexts: 0 free of " + pool.capacity());
        }
      });
    }
    if (demand.gpu() && demand.gpuBdf().isPresent()) {
      String wanted = poolGpu(demand.gpuBdf().get());
      claims.values().stream().filter(c -> c.gpu().equals(Optional.of(wanted))).findFirst()
          .ifPresent(holder -> shortages.add("GPU " + wanted + ": held by VM " + holder.vmId()));
    } else if (demand.gpu() && freeGpus().isEmpty()) {
      shortages.add("GPUs: none free of " + inventory.gpus().size());
    }
    inventory.diskFreeBytes().ifPresent(free -> {
      long left = Math.max(0, free - diskSinceRead);
      if (demand.diskBytes() > left) {
        shortages.add("disk: " + demand.diskBytes() / MIB + " MiB asked, " + left / MIB + " MiB free in the state dir");
      }
    });
    return shortages;
  }

  private Optional<ContextPool> contextPool(Tee tee) {
    return tee == Tee.SEV_SNP ? inventory.sevSnp() : inventory.tdx();
  }

  /** The pool's capacity less what other guests used when it was read and less what ours hold now. */
  private int freeContexts(Tee tee, ContextPool pool) {
    return Math.max(0, pool.capacity() - othersAtRead.getOrDefault(tee, 0) - ours(tee));
  }

  private int ours(Tee tee) {
    return (int) claims.values().stream().filter(c -> c.tee() == tee).count();
  }

  private static String contextName(Tee tee) {
    return tee == Tee.SEV_SNP ? "sev-snp" : "tdx";
  }

  /** The pool's GPU of this address (any spelling), or INVALID_ARGUMENT naming the pool. */
  private String poolGpu(String bdf) {
    String canonical = QemuConfig.GpuDevices.canonical(bdf);
    return inventory.gpus().stream().map(Gpu::bdf)
        .filter(gpu -> QemuConfig.GpuDevices.canonical(gpu).equals(canonical)).findFirst()
        .orElseThrow(() -> new ManagerException(ErrorKind.INVALID_ARGUMENT, "gpu: " + ClientText.quote(bdf)
            + " is not a GPU of this host's (" + (inventory.gpus().isEmpty() ? "none"
                : String.join(", ", inventory.gpus().stream().map(Gpu::bdf).toList())) + ")"));
  }

  private List<String> freeGpus() {
    List<String> held = claims.values().stream().flatMap(c -> c.gpu().stream()).toList();
    return inventory.gpus().stream().map(Gpu::bdf).filter(bdf -> !held.contains(bdf)).toList();
  }
}
