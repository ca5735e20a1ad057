package io.cvmmanager.vm;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * One sample of what a VM's QEMU uses, read from {@code /proc/<pid>} by the monitor, with QEMU's own KVM statistics
 * (QMP {@code query-stats}) added by the launcher, which holds the QMP connection. Travels as JSON on the bus:
 * {@code {"id", "pid", "cpuSeconds", "rssBytes", "uptimeSeconds", "sampledAt", "kvmStats"}}.
 *
 * @param pid the QEMU process sampled (under sudo, the one in qemu.pid, not sudo)
 * @param cpuSeconds user and system CPU time of all of QEMU's threads since it started
 * @param rssBytes QEMU's resident memory (guest RAM it touched included)
 * @param uptimeSeconds how long QEMU has run
 * @param kvmStats KVM's statistics of the VM ({@code vm.NAME}) and summed over its vCPUs ({@code vcpu.NAME}); empty
 *     where QEMU has no stats provider (TCG)
 */
public record VmUsage(String id, long pid, double cpuSeconds, long rssBytes, double uptimeSeconds, Instant sampledAt,
    Map<String, Double> kvmStats) implements BusMessage {

  public VmUsage {
    kvmStats = Map.copyOf(kvmStats);
  }

  public VmUsage withKvmStats(Map<String, Double> stats) {
    return new VmUsage(id, pid, cpuSeconds, rssBytes, uptimeSeconds, sampledAt, stats);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("pid", pid).put("cpuSeconds", cpuSeconds).put("rssBytes", rssBytes)
        .put("uptimeSeconds", uptimeSeconds).put("sampledAt", sampledAt.toString())
        .put("kvmStats", new JsonObject(new TreeMap<>(kvmStats)));
  }

  public static VmUsage fromJson(JsonObject json) {
    Map<String, Double> stats = new TreeMap<>();
    json.getJsonObject("kvmStats", new JsonObject())
        .forEach(e -> stats.put(e.getKey(), ((Number) e.getValue()).doubleValue()));
    return new VmUsage(json.getString("id"), json.getLong("pid"), json.getDouble("cpuSeconds"),
        json.getLong("rssBytes"), json.getDouble("uptimeSeconds"), Instant.parse(json.getString("sampledAt")),
        stats);
  }
}
