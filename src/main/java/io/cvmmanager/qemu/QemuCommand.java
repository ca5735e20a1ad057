package io.cvmmanager.qemu;

import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU argument list of one VM: a pure function of its {@link LaunchInput}, which the create saga and the golden
 * test both call. Upstream's arguments come first, in upstream's order (so a reviewer can compare with the Go manager
 * line by line); ours follow and never change them: a name, a QMP socket, the serial console into a file, a pid
 * file, and {@code -S} when VMs start paused. Golden files under src/test/resources/qemu-args/ pin every mode.
 */
public final class QemuCommand {
  private QemuCommand() {}

  public static List<String> build(LaunchInput vm) {
    QemuConfig q = vm.qemu();
    Tee tee = vm.tee();
    List<String> args = new ArrayList<>();
    if (q.useSudo()) {
      args.add("sudo");
    }
    args.add(q.binPath());
    if (q.enableKvm()) {
      args.add("-enable-kvm");
    }
    args.addAll(List.of("-machine", q.machine()));
    args.addAll(List.of("-cpu", q.cpu()));
    args.addAll(List.of("-smp", q.smp().count() + ",maxcpus=" + q.smp().maxCpus()));
    args.addAll(List.of("-m", q.memory().size() + ",slots=" + q.memory().slots() + ",maxmem=" + q.memory().max()));

    if (tee == Tee.NONE) {
      QemuConfig.Ovmf o = q.ovmf();
      args.addAll(List.of("-drive", "if=" + o.codeIf() + ",format=" + o.codeFormat() + ",unit=" + o.codeUnit()
          + ",file=" + o.codeFile() + ",readonly=" + o.codeReadonly()));
      args.addAll(List.of("-drive", "if=" + o.varsIf() + ",format=" + o.varsFormat() + ",unit=" + o.varsUnit()
          + ",file=" + vm.paths().ovmfVars()));
    }

    QemuConfig.Net n = q.net();
    String netdevId = n.netdevId() + "-" + vm.id();
    args.addAll(List.of("-netdev",
        "user,id=" + netdevId + ",hostfwd=tcp::" + vm.hostPort() + "-:" + n.guestFwdAgent()));
    args.addAll(List.of("-device", "virtio-net-pci,disable-legacy=" + n.disableLegacy() + ",iommu_platform="
        + n.iommuPlatform() + ",netdev=" + netdevId + ",addr=" + n.addr() + ",romfile=" + n.romfile()));

    QemuConfig.Disk d = q.disk();
    if (d.enabled()) {
      args.addAll(List.of("-drive",
          "file=" + vm.paths().disk() + ",if=none,id=" + d.id() + ",format=" + d.format()));
      args.addAll(List.of("-device",
          "virtio-scsi-pci,id=" + d.scsiId() + ",disable-legacy=on,iommu_platform=true"));
      args.addAll(List.of("-device", "scsi-hd,drive=" + d.id() + ",bus=" + d.scsiId() + ".0"));
    }

    QemuConfig.Gpu g = q.gpu();
    vm.gpu().ifPresent(bdf -> {
      args.addAll(List.of("-device", "pcie-root-port,id=" + g.pcieRootPort() + ",bus=" + g.pcieBus()));
      args.addAll(List.of("-device", "vfio-pci,host=" + bdf + ",bus=" + g.pcieRootPort()));
      args.addAll(List.of("-fw_cfg", "name=opt/ovmf/X-PciMmio64Mb,string=" + g.fwCfgMmioMb()));
    });

    String memoryBackend = "memory-backend-memfd,id=" + q.memory().id() + ",size=" + q.memory().size()
        + ",share=true,prealloc=false";
    if (tee == Tee.SEV_SNP) {
      QemuConfig.SevSnp s = q.sevSnp();
      String sevId = s.id() + "-" + vm.id();
      args.addAll(List.of("-machine", "confidential-guest-support=" + sevId + ",memory-backend=" + q.memory().id()
          + ",igvm-cfg=" + s.igvmId()));
      args.addAll(List.of("-object", memoryBackend));
      String hostData = s.enableHostData() ? vm.hostData().map(h -> ",host-data=" + h).orElse("") : "";
      args.addAll(List.of("-object", "sev-snp-guest,id=" + sevId + ",cbitpos=" + s.cbitpos()
          + ",reduced-phys-bits=" + s.reducedPhysBits() + hostData));
      args.addAll(List.of("-object", "igvm-cfg,id=" + s.igvmId() + ",file=" + s.igvmFile()));
    }
    if (tee == Tee.TDX) {
      QemuConfig.Tdx t = q.tdx();
      String tdxId = t.id() + "-" + vm.id();
      // Upstream's exact JSON text, spaces included, so the command lines of both managers compare equal.
      args.addAll(List.of("-object", "{\"qom-type\":\"tdx-guest\",\"id\":\"" + tdxId
          + "\",\"quote-generation-socket\":{\"type\": \"vsock\", \"cid\":\"2\",\"port\":\""
          + t.quoteGenerationPort() + "\"}}"));
      args.addAll(List.of("-machine", "confidential-guest-support=" + tdxId + ",memory-backend=" + q.memory().id()
          + ",hpet=off"));
      args.addAll(List.of("-object", memoryBackend));
      args.addAll(List.of("-bios", t.ovmfFile()));
      args.add("-nodefaults");
    }

    if (!d.enabled()) {
      args.addAll(List.of("-kernel", q.kernel().kernelFile()));
      args.addAll(List.of("-append", kernelCommandLine(q, vm.request())));
      args.addAll(List.of("-initrd", q.kernel().rootfsFile()));
    }
    if (q.noGraphic()) {
      args.add("-nographic");
    }
    args.addAll(List.of("-monitor", q.monitor()));
    // Both shares for every VM, as upstream: the files step always makes both directories, and the agent reads its
    // certificates and environment from them.
    args.addAll(List.of("-fsdev", "local,id=cert_fs,path=" + vm.paths().certs() + ",security_model=mapped"));
    args.addAll(List.of("-device", "virtio-9p-pci,fsdev=cert_fs,mount_tag=certs_share"));
    args.addAll(List.of("-fsdev", "local,id=env_fs,path=" + vm.paths().env() + ",security_model=mapped"));
    args.addAll(List.of("-device", "virtio-9p-pci,fsdev=env_fs,mount_tag=env_share"));

    args.addAll(List.of("-name", "cvm-" + vm.id()));
    args.addAll(List.of("-qmp", "unix:" + vm.paths().qmpSocket() + ",server=on,wait=off"));
    args.addAll(List.of("-chardev", "file,id=console0,path=" + vm.paths().consoleLog() + ",append=on"));
    args.addAll(List.of("-serial", "chardev:console0"));
    args.addAll(List.of("-pidfile", vm.paths().pidFile().toString()));
    if (q.startPaused()) {
      args.add("-S");
    }
    return List.copyOf(args);
  }

  /**
   * The guest kernel's command line: the configured one, plus the attestation agent's KBS parameters when the request
   * gives some (an empty {@code aa_kbs_params} is none, as in upstream's proto3 request).
   */
  public static String kernelCommandLine(QemuConfig q, VmCreateRequest request) {
    String kbs = request.aaKbsParams();
    return q.kernel().cmdline() + (kbs.isEmpty() ? "" : " agent.aa_kbc_params=" + kbs);
  }
}
