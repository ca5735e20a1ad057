package io.cvmmanager.vm;

import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A VM's own sizes, where a CreateVm of our API gives them (upstream's CreateVm gives none: the configured sizes).
 *
 * @param vcpus the VM's vCPUs; empty: MANAGER_QEMU_SMP_COUNT
 * @param memory the VM's memory in QEMU's size syntax; empty: MANAGER_QEMU_MEMORY_SIZE
 * @param gpu in GPU mode {@code any} (the default), {@code none}, or a BDF of the pool; empty: the default
 */
public record VmSize(OptionalLong vcpus, Optional<String> memory, Optional<String> gpu) {
  /** The configured sizes, as upstream's CreateVm has them. */
  public static final VmSize CONFIGURED = new VmSize(OptionalLong.empty(), Optional.empty(), Optional.empty());
  public static final String ANY_GPU = "any";
  public static final String NO_GPU = "none";

  public JsonObject toJson() {
    JsonObject json = new JsonObject();
    vcpus.ifPresent(v -> json.put("vcpus", v));
    memory.ifPresent(m -> json.put("memory", m));
    gpu.ifPresent(g -> json.put("gpu", g));
    return json;
  }

  public static VmSize fromJson(JsonObject json) {
    return new VmSize(json.containsKey("vcpus") ? OptionalLong.of(json.getLong("vcpus")) : OptionalLong.empty(),
        Optional.ofNullable(json.getString("memory")), Optional.ofNullable(json.getString("gpu")));
  }
}
