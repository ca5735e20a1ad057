package io.cvmmanager.launcher;

import io.cvmmanager.attestation.HostData;
import io.cvmmanager.config.GoDuration;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.resources.Demand;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import io.cvmmanager.vm.VmSize;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A CreateVm checked, before anything is made: its TTL parsed, its agent environment rendered (which refuses what
 * the guest could not parse), its KBS parameters and sizes checked, room under MANAGER_MAX_VMS — then the VM as the
 * table will hold it, with the environment the disk verticle writes for it and what it needs of the host (which
 * the host's accounts admit or refuse).
 */
record NewVm(Vm vm, String environment, Demand demand) {
  private static final long MIB = 1L << 20;
  /** Below this no guest of ours boots (QEMU itself takes less); a request for less is a mistake. */
  private static final long MIN_MEMORY_BYTES = 16 * MIB;

  /**
   * The VM {@code id} for {@code request}, its copied disk taking {@code diskBytes}, or INVALID_ARGUMENT /
   * FAILED_PRECONDITION / RESOURCE_EXHAUSTED saying why not.
   */
  static NewVm admit(String id, VmCreateRequest request, ManagerConfig config, Tee tee, int vmsInTable,
      long diskBytes) {
    QemuConfig qemu = sized(config.qemu(), request.size());
    Optional<Instant> deadline = ttl(request.ttl()).map(Instant.now()::plus);
    String environment = AgentEnvironment.render(id, request);
    if (!request.aaKbsParams().isEmpty()) {
      AgentEnvironment.requireQuotable(request.aaKbsParams(), "aa_kbs_params");
      if (request.aaKbsParams().chars().anyMatch(Character::isWhitespace)) {
        throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "aa_kbs_params contains whitespace");
      }
    }
    if (config.maxVms() > 0 && vmsInTable >= config.maxVms()) {
      throw new ManagerException(ErrorKind.RESOURCE_EXHAUSTED,
          "maximum number of VMs reached (MANAGER_MAX_VMS=" + config.maxVms() + ")");
    }
    // The same function as QEMU's -append: CVMInfo reports the kernel command line the VM really has.
    String cmdline = QemuCommand.kernelCommandLine(qemu, request);
    Vm vm = new Vm(id, VmPaths.of(config.stateDir(), id), tee, qemu.disk().enabled(), qemu.startPaused(), cmdline,
        deadline, launchConfig(config, qemu, tee));
    vm.hostData = HostData.forVm(tee, qemu.sevSnp(), request.serverCaCert(), request.clientCert(),
        request.cvmServerUrl());
    return new NewVm(vm, environment, demand(qemu, tee, request.size(), diskBytes));
  }

  /** The configuration with the VM's own vCPUs and memory, each checked against its bound. */
  private static QemuConfig sized(QemuConfig qemu, VmSize size) {
    long vcpus = size.vcpus().orElse(qemu.smp().count());
    if (vcpus < 1 || vcpus > qemu.smp().maxCpus()) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "vcpus: " + vcpus
          + " is not within 1 and MANAGER_QEMU_SMP_MAXCPUS (" + qemu.smp().maxCpus() + ")");
    }
    String memory = qemu.memory().size();
    if (size.memory().isPresent()) {
      String asked = size.memory().get();
      long bytes = QemuConfig.Memory.bytesOf(asked);
      long max = QemuConfig.Memory.bytesOf(qemu.memory().max());
      if (bytes < 0 || bytes % MIB != 0) {
        throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "memory: " + ClientText.quote(asked)
            + " is not a size in whole MiB like 512M or 4G");
      }
      if (bytes < MIN_MEMORY_BYTES || bytes > max) {
        throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "memory: " + ClientText.quote(asked)
            + " is not within 16M and MANAGER_QEMU_MAX_MEMORY (" + qemu.memory().max() + ")");
      }
      // One spelling QEMU takes whatever the client wrote (512, 512M, 0.5G are not all QEMU's).
      memory = bytes / MIB + "M";
    }
    return qemu.withVmSize((int) vcpus, memory);
  }

  /**
   * What the VM needs of the host. In GPU mode it takes a GPU unless it asks for {@code none}; it may name one of
   * the pool's. Without GPU mode a GPU cannot be asked for.
   */
  private static Demand demand(QemuConfig qemu, Tee tee, VmSize size, long diskBytes) {
    String gpu = size.gpu().orElse(VmSize.ANY_GPU);
    boolean gpuMode = qemu.gpu().devices().enabled();
    if (!gpu.equals(VmSize.ANY_GPU) && !gpu.equals(VmSize.NO_GPU)
        && !QemuConfig.GpuDevices.isPciAddress(gpu)) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "gpu: " + ClientText.quote(gpu)
          + " is not any, none or a PCI address like 0000:01:00.0");
    }
    if (!gpuMode && size.gpu().isPresent() && !gpu.equals(VmSize.NO_GPU)) {
      throw new ManagerException(ErrorKind.FAILED_PRECONDITION, "gpu: " + ClientText.quote(gpu)
          + " asked for, but GPU mode is off (MANAGER_QEMU_GPU_BDF is empty)");
    }
    boolean takesGpu = gpuMode && !gpu.equals(VmSize.NO_GPU);
    Optional<String> bdf = takesGpu && !gpu.equals(VmSize.ANY_GPU) ? Optional.of(gpu) : Optional.empty();
    return new Demand(qemu.memory().sizeBytes(), qemu.smp().count(), tee, takesGpu, diskBytes, bdf);
  }

  private static Optional<Duration> ttl(String text) {
    if (text.isEmpty()) {
      return Optional.empty();
    }
    Duration ttl;
    try {
      ttl = GoDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "ttl: " + e.getMessage()
          + " (Go duration syntax, e.g. 90s, 1h30m)");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "ttl: " + ClientText.quote(text)
          + " must be more than zero");
    }
    return Optional.of(ttl);
  }

  /** What state.json keeps of the configuration the VM is launched with ({@code qemu}: with its own sizes). */
  private static LaunchConfig launchConfig(ManagerConfig config, QemuConfig qemu, Tee tee) {
    return new LaunchConfig(config.instanceId(), qemu.binPath(), Optional.of(qemu.useSudo()), qemu.machine(),
        qemu.cpu(), qemu.enableKvm(), qemu.memory().size(), qemu.smp().count(),
        qemu.disk().enabled() ? "disk" : "kernel", tee.name(), qemu.startPaused(), qemu.net().guestFwdAgent(),
        config.eosVersion(), false);
  }
}
