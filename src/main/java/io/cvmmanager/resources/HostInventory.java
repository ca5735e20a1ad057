package io.cvmmanager.resources;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What the host has for VMs, as read below MANAGER_HOST_ROOT ({@link HostInventoryReader}); an empty value is a
 * resource the host does not tell about, which then limits nothing.
 *
 * @param memoryBytes MemTotal less MANAGER_HOST_RESERVED_MEMORY (never below 0)
 * @param cpus the host's online CPUs
 * @param sevSnp SEV-SNP guest contexts ({@code sev_es} in the misc cgroup)
 * @param tdx TDX guest contexts ({@code tdx} in the misc cgroup)
 * @param gpus the GPUs VMs may be given, in the order they are handed out
 * @param diskFreeBytes free space of the state dir's file system, for an unprivileged user
 * @param warnings what was skipped or could not be read, one line each, for the log
 * @param numaNodes the host's NUMA nodes by id; none when the kernel shows none (or they could not be read)
 */
public record HostInventory(OptionalLong memoryBytes, OptionalInt cpus, Optional<ContextPool> sevSnp,
    Optional<ContextPool> tdx, List<Gpu> gpus, OptionalLong diskFreeBytes, List<String> warnings,
    List<NumaNode> numaNodes) implements BusMessage {

  public HostInventory {
    gpus = List.copyOf(gpus);
    warnings = List.copyOf(warnings);
    numaNodes = List.copyOf(numaNodes);
  }

  /** A host whose NUMA nodes are not known. */
  public HostInventory(OptionalLong memoryBytes, OptionalInt cpus, Optional<ContextPool> sevSnp,
      Optional<ContextPool> tdx, List<Gpu> gpus, OptionalLong diskFreeBytes, List<String> warnings) {
    this(memoryBytes, cpus, sevSnp, tdx, gpus, diskFreeBytes, warnings, List.of());
  }

  /** {@code {"memoryBytes", "cpus", "sevSnp": {"capacity", "inUse"}, "tdx", "gpus": [{"bdf", "iommuGroup"}],
   * "diskFreeBytes", "warnings", "numaNodes": [{"id", "cpuList", "memoryBytes"}]}}; an unknown resource is left
   * out. */
  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    memoryBytes.ifPresent(m -> json.put("memoryBytes", m));
    cpus.ifPresent(c -> json.put("cpus", c));
    sevSnp.ifPresent(pool -> json.put("sevSnp", pool(pool)));
    tdx.ifPresent(pool -> json.put("tdx", pool(pool)));
    json.put("gpus", new JsonArray(gpus.stream().map(g -> new JsonObject().put("bdf", g.bdf())
        .put("iommuGroup", g.iommuGroup())).toList()));
    diskFreeBytes.ifPresent(d -> json.put("diskFreeBytes", d));
    json.put("numaNodes", new JsonArray(numaNodes.stream().map(n -> new JsonObject().put("id", n.id())
        .put("cpuList", n.cpuList()).put("memoryBytes", n.memoryBytes())).toList()));
    return json.put("warnings", new JsonArray(warnings));
  }

  public static HostInventory fromJson(JsonObject json) {
    return new HostInventory(
        json.containsKey("memoryBytes") ? OptionalLong.of(json.getLong("memoryBytes")) : OptionalLong.empty(),
        json.containsKey("cpus") ? OptionalInt.of(json.getInteger("cpus")) : OptionalInt.empty(),
        Optional.ofNullable(json.getJsonObject("sevSnp")).map(HostInventory::pool),
        Optional.ofNullable(json.getJsonObject("tdx")).map(HostInventory::pool),
        json.getJsonArray("gpus", new JsonArray()).stream().map(g -> (JsonObject) g)
            .map(g -> new Gpu(g.getString("bdf"), g.getString("iommuGroup", ""))).toList(),
        json.containsKey("diskFreeBytes") ? OptionalLong.of(json.getLong("diskFreeBytes")) : OptionalLong.empty(),
        json.getJsonArray("warnings", new JsonArray()).stream().map(String.class::cast).toList(),
        json.getJsonArray("numaNodes", new JsonArray()).stream().map(JsonObject.class::cast)
            .map(n -> new NumaNode(n.getInteger("id"), n.getString("cpuList"), n.getLong("memoryBytes"))).toList());
  }

  private static JsonObject pool(ContextPool pool) {
    return new JsonObject().put("capacity", pool.capacity()).put("inUse", pool.inUse());
  }

  private static ContextPool pool(JsonObject json) {
    return new ContextPool(json.getInteger("capacity"), json.getInteger("inUse"));
  }
}
