package io.cvmmanager.resources;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Where a VM's memory and QEMU go on a NUMA host (MANAGER_NUMA=auto), decided at admission and held in the VM's
 * {@link Claim}: the host nodes its memory comes from, in the order of the guest's nodes when it has several.
 *
 * @param plan how the VM is bound
 * @param shares what each host node gives of the VM's memory; one for {@link Plan#BIND}, several otherwise, none
 *     for {@link Plan#NONE}
 */
public record Placement(Plan plan, List<Share> shares) {
  /** No placement: a host with one node or none, MANAGER_NUMA=off, or a record from before placement. */
  public static final Placement NONE = new Placement(Plan.NONE, List.of());

  public enum Plan {
    /** Left to the kernel. */
    NONE,
    /** All of it on one node, QEMU on that node's CPUs. */
    BIND,
    /** A VM without TEE that fits no single node: one guest NUMA node per share, each bound to its host node. */
    SPREAD,
    /** A TEE VM that fits no single node: its memory interleaved over the shares' nodes (no guest topology). */
    INTERLEAVE
  }

  /** {@code memoryBytes} of the VM's memory on host node {@code node}. */
  public record Share(int node, long memoryBytes) {}

  public Placement {
    shares = List.copyOf(shares);
  }

  /** The host nodes of the shares, in the kernel's list form ({@code 0,1}). */
  public String nodeList() {
    return shares.stream().map(s -> String.valueOf(s.node())).distinct().collect(Collectors.joining(","));
  }

  /** What the VM holds on host node {@code node}. */
  public long memoryOn(int node) {
    return shares.stream().filter(s -> s.node() == node).mapToLong(Share::memoryBytes).sum();
  }

  /** {@code {"plan", "shares": [{"node", "memoryBytes"}]}}, as state.json records it. */
  public JsonObject toJson() {
    return new JsonObject().put("plan", plan.name()).put("shares", new JsonArray(shares.stream()
        .map(s -> new JsonObject().put("node", s.node()).put("memoryBytes", s.memoryBytes())).toList()));
  }

  public static Placement fromJson(JsonObject json) {
    return new Placement(Plan.valueOf(json.getString("plan", Plan.NONE.name())),
        json.getJsonArray("shares", new JsonArray()).stream().map(JsonObject.class::cast)
            .map(s -> new Share(s.getInteger("node"), s.getLong("memoryBytes"))).toList());
  }
}
