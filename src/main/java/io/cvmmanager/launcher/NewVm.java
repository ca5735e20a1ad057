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
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A CreateVm checked and admitted, before anything is made: its TTL parsed, its agent environment rendered (which
 * refuses what the guest could not parse), its KBS parameters checked, room under MANAGER_MAX_VMS — then the VM as
 * the table will hold it, with the environment the disk verticle writes for it.
 */
record NewVm(Vm vm, String environment) {

  /** The VM {@code id} for {@code request}, or INVALID_ARGUMENT / RESOURCE_EXHAUSTED saying why not. */
  static NewVm admit(String id, VmCreateRequest request, ManagerConfig config, Tee tee, int vmsInTable) {
    QemuConfig qemu = config.qemu();
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
        deadline, launchConfig(config, tee));
    vm.hostData = HostData.forVm(tee, qemu.sevSnp(), request.serverCaCert(), request.clientCert(),
        request.cvmServerUrl());
    return new NewVm(vm, environment);
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

  /** What state.json keeps of the configuration the VM is launched with. */
  private static LaunchConfig launchConfig(ManagerConfig config, Tee tee) {
    QemuConfig qemu = config.qemu();
    return new LaunchConfig(config.instanceId(), qemu.binPath(), Optional.of(qemu.useSudo()), qemu.machine(),
        qemu.cpu(), qemu.enableKvm(), qemu.memory().size(), qemu.smp().count(),
        qemu.disk().enabled() ? "disk" : "kernel", tee.name(), qemu.startPaused(), qemu.net().guestFwdAgent(),
        config.eosVersion(), false);
  }
}
