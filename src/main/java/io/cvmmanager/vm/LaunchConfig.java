package io.cvmmanager.vm;

import io.vertx.core.json.JsonObject;
import java.util.Optional;

/**
 * The manager's configuration a VM was launched with, as its state.json keeps it: a later manager may run with
 * other settings, and the VM is still handled as it was started (signalled through sudo or not, its CPU model
 * reported as it runs).
 *
 * @param useSudo whether QEMU runs under sudo; empty for a VM recovered from its command line (not shown there)
 * @param memory QEMU's {@code -m} size as configured (MANAGER_QEMU_MEMORY_SIZE)
 * @param bootMode {@code "kernel"} or {@code "disk"}
 * @param recoveredFromCommandLine the record was lost and rebuilt from the running QEMU: only {@code cpu} is known
 */
public record LaunchConfig(String instanceId, String qemuBinary, Optional<Boolean> useSudo, String machine,
    String cpu, boolean enableKvm, String memory, int smp, String bootMode, String tee, boolean startPaused,
    int guestAgentPort, String eosVersion, boolean recoveredFromCommandLine) {

  /** What is known of a VM whose state.json was lost: its CPU model, from QEMU's command line. */
  public static LaunchConfig recovered(String cpu) {
    return new LaunchConfig("", "", Optional.empty(), "", cpu, false, "", 0, "", "", false, 0, "", true);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    if (recoveredFromCommandLine) {
      return json.put("recoveredFromCommandLine", true).put("cpu", cpu);
    }
    json.put("instanceId", instanceId).put("qemuBinary", qemuBinary);
    useSudo.ifPresent(sudo -> json.put("useSudo", sudo));
    return json.put("machine", machine).put("cpu", cpu).put("enableKvm", enableKvm).put("memory", memory)
        .put("smp", smp).put("bootMode", bootMode).put("tee", tee).put("startPaused", startPaused)
        .put("guestAgentPort", guestAgentPort).put("eosVersion", eosVersion);
  }

  public static LaunchConfig fromJson(JsonObject json) {
    return new LaunchConfig(json.getString("instanceId", ""), json.getString("qemuBinary", ""),
        Optional.ofNullable(json.getBoolean("useSudo")), json.getString("machine", ""), json.getString("cpu", ""),
        json.getBoolean("enableKvm", false), json.getString("memory", ""), json.getInteger("smp", 0),
        json.getString("bootMode", ""), json.getString("tee", ""), json.getBoolean("startPaused", false),
        json.getInteger("guestAgentPort", 0), json.getString("eosVersion", ""),
        json.getBoolean("recoveredFromCommandLine", false));
  }
}
