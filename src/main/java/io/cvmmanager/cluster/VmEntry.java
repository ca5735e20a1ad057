package io.cvmmanager.cluster;

import io.cvmmanager.vm.VmView;
import io.vertx.core.json.JsonObject;
import java.util.Optional;

/**
 * One VM in the cluster view ({@code cvm.vms}): the owner's view of it (no secrets, no usage: that changes every
 * sample and is asked of the owner), its owner node, and the host its forwarded port is on.
 */
public record VmEntry(VmView view, String node, String host) {
  public String id() {
    return view.id();
  }

  public JsonObject toJson() {
    return new JsonObject().put("view", view.toJson()).put("node", node).put("host", host);
  }

  public String encode() {
    return toJson().encode();
  }

  public static VmEntry decode(String text) {
    JsonObject json = new JsonObject(text);
    return new VmEntry(VmView.fromJson(json.getJsonObject("view")), json.getString("node"), json.getString("host"));
  }

  /** {@code view} without its usage sample, as published. */
  public static VmEntry of(VmView view, String node, String host) {
    return new VmEntry(new VmView(view.id(), view.state(), view.port(), view.pid(), view.created(),
        view.ttlDeadline(), view.bootMode(), view.tee(), view.paused(), view.agentReady(), view.kernelCmdline(),
        view.hostData(), view.cpuModel(), view.launchMeasurement(), view.gpu(), view.vcpus(), view.memoryBytes(),
        Optional.empty(), view.numaNodes(), view.origin()), node, host);
  }
}
