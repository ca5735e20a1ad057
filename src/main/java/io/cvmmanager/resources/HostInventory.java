package io.cvmmanager.resources;

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
 */
public record HostInventory(OptionalLong memoryBytes, OptionalInt cpus, Optional<ContextPool> sevSnp,
    Optional<ContextPool> tdx, List<Gpu> gpus, OptionalLong diskFreeBytes, List<String> warnings) {

  public HostInventory {
    gpus = List.copyOf(gpus);
    warnings = List.copyOf(warnings);
  }
}
