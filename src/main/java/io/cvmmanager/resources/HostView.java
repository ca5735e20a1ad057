package io.cvmmanager.resources;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The host as admission sees it now: for each resource what the host has, what this manager's VMs hold and what a
 * new VM may still take; and each GPU with the VM that holds it. What GetHost, {@code cvmctl host}, {@code /health}
 * and the {@code cvm_host_*} gauges show.
 *
 * @param resources in a fixed order: memory, vcpus, sev-snp-contexts, tdx-contexts, gpus, disk, vms; then, when
 *     VMs are placed on NUMA nodes, memory-node0, memory-node1, … (each node's memory)
 * @param gpus the GPUs VMs may be given, in the order they are handed out
 * @param warnings what the last reading of the host skipped or could not read
 */
public record HostView(List<Resource> resources, List<GpuUse> gpus, List<String> warnings) implements BusMessage {
  public HostView {
    resources = List.copyOf(resources);
    gpus = List.copyOf(gpus);
    warnings = List.copyOf(warnings);
  }

  /**
   * One resource.
   *
   * @param name {@code memory}, {@code vcpus}, {@code sev-snp-contexts}, {@code tdx-contexts}, {@code gpus},
   *     {@code disk}, {@code vms} or {@code memory-node<id>}
   * @param unit {@code bytes} or {@code count}
   * @param capacity what the host has (memory: MemTotal less MANAGER_HOST_RESERVED_MEMORY; vcpus: online host CPUs;
   *     disk: free space of the state dir at the last reading; vms: MANAGER_MAX_VMS); empty when the host does not
   *     tell, and then it limits nothing
   * @param allocated what this manager's VMs hold (STOPPING ones included)
   * @param free what a new VM may still take: the limit (capacity × overcommit for memory of a VM without TEE and
   *     for vcpus; contexts less those other guests of the host use) less what is allocated; empty when unlimited
   */
  public record Resource(String name, String unit, OptionalLong capacity, long allocated, OptionalLong free) {
    JsonObject toJson() {
      JsonObject json = new JsonObject().put("name", name).put("unit", unit).put("allocated", allocated);
      capacity.ifPresent(c -> json.put("capacity", c));
      free.ifPresent(f -> json.put("free", f));
      return json;
    }

    static Resource fromJson(JsonObject json) {
      return new Resource(json.getString("name"), json.getString("unit"), optionalLong(json, "capacity"),
          json.getLong("allocated", 0L), optionalLong(json, "free"));
    }
  }

  /** A GPU, and the VM that holds it (empty: free). */
  public record GpuUse(String bdf, String iommuGroup, Optional<String> vmId) {
    JsonObject toJson() {
      JsonObject json = new JsonObject().put("bdf", bdf).put("iommuGroup", iommuGroup);
      vmId.ifPresent(id -> json.put("vmId", id));
      return json;
    }

    static GpuUse fromJson(JsonObject json) {
      return new GpuUse(json.getString("bdf"), json.getString("iommuGroup", ""),
          Optional.ofNullable(json.getString("vmId")));
    }
  }

  /** The resource of this name. */
  public Optional<Resource> resource(String name) {
    return resources.stream().filter(r -> r.name().equals(name)).findFirst();
  }

  /** {@code {"resources": [{"name", "unit", "capacity"?, "allocated", "free"?}], "gpus": [{"bdf", "iommuGroup",
   * "vmId"?}], "warnings": [...]}}. */
  @Override
  public JsonObject toJson() {
    return new JsonObject()
        .put("resources", new JsonArray(resources.stream().map(Resource::toJson).toList()))
        .put("gpus", new JsonArray(gpus.stream().map(GpuUse::toJson).toList()))
        .put("warnings", new JsonArray(warnings));
  }

  public static HostView fromJson(JsonObject json) {
    return new HostView(
        json.getJsonArray("resources", new JsonArray()).stream().map(JsonObject.class::cast)
            .map(Resource::fromJson).toList(),
        json.getJsonArray("gpus", new JsonArray()).stream().map(JsonObject.class::cast).map(GpuUse::fromJson)
            .toList(),
        json.getJsonArray("warnings", new JsonArray()).stream().map(String.class::cast).toList());
  }

  private static OptionalLong optionalLong(JsonObject json, String field) {
    return json.containsKey(field) ? OptionalLong.of(json.getLong(field)) : OptionalLong.empty();
  }
}
