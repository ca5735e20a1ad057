package io.cvmmanager.vm;

import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.Tee;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Optional;

/**
 * What the launcher tells others about one VM (no secrets). Travels as JSON on the event bus.
 *
 * @param hostData the SEV-SNP host data bound to the VM (base64 of 32 bytes), when it has some
 * @param cpuModel the QEMU CPU model the VM was launched with (MANAGER_QEMU_CPU then)
 * @param launchMeasurement SEV-SNP: the launch measurement (hex) of the IGVM file the VM was launched with
 * @param gpu the GPU (PCI BDF) passed through to the VM, in GPU mode
 * @param vcpus the VM's vCPUs, as it was launched with
 * @param memoryBytes the VM's memory, as it was launched with
 * @param usage what its QEMU used at the last sample; empty until the first
 * @param numaNodes the host NUMA nodes admission placed it on ({@code 0}, {@code 0,1}); empty when not placed
 */
public record VmView(String id, VmState state, int port, int pid, Instant created, Optional<Instant> ttlDeadline,
    String bootMode, Tee tee, boolean paused, boolean agentReady, String kernelCmdline, Optional<String> hostData,
    String cpuModel, Optional<String> launchMeasurement, Optional<String> gpu, int vcpus, long memoryBytes,
    Optional<VmUsage> usage, String numaNodes, Optional<CreateOrigin> origin) implements BusMessage {

  /** A VM created by this node's own API. */
  public VmView(String id, VmState state, int port, int pid, Instant created, Optional<Instant> ttlDeadline,
      String bootMode, Tee tee, boolean paused, boolean agentReady, String kernelCmdline, Optional<String> hostData,
      String cpuModel, Optional<String> launchMeasurement, Optional<String> gpu, int vcpus, long memoryBytes,
      Optional<VmUsage> usage, String numaNodes) {
    this(id, state, port, pid, created, ttlDeadline, bootMode, tee, paused, agentReady, kernelCmdline, hostData,
        cpuModel, launchMeasurement, gpu, vcpus, memoryBytes, usage, numaNodes, Optional.empty());
  }

  /** The error for an id that names no VM (quoted short: it is the client's). */
  public static ManagerException notFound(String id) {
    return new ManagerException(ErrorKind.NOT_FOUND, "VM " + ClientText.quote(id) + " not found");
  }

  /**
   * This VM as upstream's calls (CVMInfo, AttestationPolicy, RemoveVm) see it: gone as soon as its removal is
   * accepted, as upstream's manager deletes it at once; ours go on showing it STOPPING.
   */
  public Future<VmView> asUpstreamSeesIt() {
    return state == VmState.STOPPING ? Future.failedFuture(notFound(id)) : Future.succeededFuture(this);
  }

  @Override
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id).put("state", state.name()).put("port", port).put("pid", pid)
        .put("created", created.toString()).put("bootMode", bootMode).put("tee", tee.name()).put("paused", paused)
        .put("agentReady", agentReady).put("kernelCmdline", kernelCmdline);
    ttlDeadline.ifPresent(d -> json.put("ttlDeadline", d.toString()));
    hostData.ifPresent(h -> json.put("hostData", h));
    json.put("cpuModel", cpuModel);
    launchMeasurement.ifPresent(m -> json.put("launchMeasurement", m));
    gpu.ifPresent(g -> json.put("gpu", g));
    usage.ifPresent(u -> json.put("usage", u.toJson()));
    origin.ifPresent(o -> json.put("origin", o.toJson()));
    return json.put("vcpus", vcpus).put("memoryBytes", memoryBytes).put("numaNodes", numaNodes);
  }

  public static VmView fromJson(JsonObject json) {
    return new VmView(json.getString("id"), VmState.valueOf(json.getString("state")), json.getInteger("port"),
        json.getInteger("pid"), Instant.parse(json.getString("created")),
        Optional.ofNullable(json.getString("ttlDeadline")).map(Instant::parse), json.getString("bootMode"),
        Tee.valueOf(json.getString("tee")), json.getBoolean("paused"), json.getBoolean("agentReady", false),
        json.getString("kernelCmdline"), Optional.ofNullable(json.getString("hostData")),
        json.getString("cpuModel", ""), Optional.ofNullable(json.getString("launchMeasurement")),
        Optional.ofNullable(json.getString("gpu")), json.getInteger("vcpus", 0), json.getLong("memoryBytes", 0L),
        Optional.ofNullable(json.getJsonObject("usage")).map(VmUsage::fromJson), json.getString("numaNodes", ""),
        Optional.ofNullable(json.getJsonObject("origin")).map(CreateOrigin::fromJson));
  }
}
