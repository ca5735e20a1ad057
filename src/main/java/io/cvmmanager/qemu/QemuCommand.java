package io.cvmmanager.qemu;

import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU argument list of one VM: a pure function of its {@link LaunchInput}, which the create saga and the golden
 * test both call. Upstream's arguments come first, in upstream's order (so a reviewer can compare with the Go manager
 * line by line); ours follow and never change them: a name, a QMP socket, the serial console into a file, a pid
 * file, and {@code -S} when VMs start paused. Golden files under src/test/resources/qemu-args/ pin every mode.
 *
 * <p>A VM placed on NUMA nodes ({@link Placement}, MANAGER_NUMA=auto on a host of several nodes) is the one
 * sanctioned change to upstream's arguments: a VM without TEE gets its memory from {@code memory-backend-ram}
 * objects bound to their host nodes (one node: {@code -machine memory-backend=}; several: one guest
 * {@code -numa node} each), and every placed VM runs under a {@link #numactl} prefix. A VM placed on no node has
 * upstream's arguments exactly.
 */
public final class QemuCommand {
  private static final long MIB = 1L << 20;

  private QemuCommand() {}

  /**
   * What QEMU's command is run under (after {@code setsid}, before {@code sudo} when that is set) so that its
   * process and its memory stay on the VM's nodes: {@code numactl}, which execs QEMU in place (the PID stays the
   * one spawned, and {@code /proc/<pid>/cmdline} is {@link #build}'s, as adoption checks it). QEMU's threads are
   * pinned to the nodes' CPUs; a TEE VM's memory, private guest_memfd memory that {@code host-nodes} does not cover,
   * is bound ({@code --membind}) or, when no single node holds it, interleaved ({@code --interleave}) over them.
   * Empty for a VM placed on no node.
   */
  public static List<String> numactl(Tee tee, Placement placement) {
    String nodes = placement.nodeList();
    return switch (placement.plan()) {
      case NONE -> List.of();
      case BIND, SPREAD -> tee == Tee.NONE ? List.of("numactl", "--cpunodebind=" + nodes)
          : List.of("numactl", "--cpunodebind=" + nodes, "--membind=" + nodes);
      case INTERLEAVE -> List.of("numactl", "--cpunodebind=" + nodes, "--interleave=" + nodes);
    };
  }

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

    if (tee == Tee.NONE) {
      args.addAll(boundMemory(q, vm.placement()));
    }
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
   * The guest memory of a VM without TEE bound to its host nodes: one {@code memory-backend-ram} as the machine's
   * memory for a VM on one node; for a VM spread over nodes, one backend and one guest NUMA node per share, the
   * guest's SMP_MAXCPUS dealt out over them in order (QEMU wants every possible CPU on a node).
   */
  private static List<String> boundMemory(QemuConfig q, Placement placement) {
    List<String> args = new ArrayList<>();
    List<Placement.Share> shares = placement.shares();
    switch (placement.plan()) {
      case BIND -> {
        args.addAll(List.of("-machine", "memory-backend=" + q.memory().id()));
        args.addAll(List.of("-object", ramBackend(q.memory().id(), shares.get(0))));
      }
      case SPREAD -> {
        int maxCpus = q.smp().maxCpus();
        int firstCpu = 0;
        for (int i = 0; i < shares.size(); i++) {
          String id = q.memory().id() + "-node" + i;
          int cpus = maxCpus / shares.size() + (i < maxCpus % shares.size() ? 1 : 0);
          args.addAll(List.of("-object", ramBackend(id, shares.get(i))));
          args.addAll(List.of("-numa", "node,nodeid=" + i + ",memdev=" + id + (cpus == 0 ? ""
              : ",cpus=" + firstCpu + (cpus == 1 ? "" : "-" + (firstCpu + cpus - 1)))));
          firstCpu += cpus;
        }
      }
      case NONE, INTERLEAVE -> { }
    }
    return args;
  }

  private static String ramBackend(String id, Placement.Share share) {
    long bytes = share.memoryBytes();
    return "memory-backend-ram,id=" + id + ",size=" + (bytes % MIB == 0 ? bytes / MIB + "M" : String.valueOf(bytes))
        + ",host-nodes=" + share.node() + ",policy=bind";
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
