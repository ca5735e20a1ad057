package io.cvmmanager.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Everything {@code MANAGER_QEMU_*}: how every VM of this host is launched. */
public record QemuConfig(
    String binPath,
    boolean useSudo,
    String machine,
    String cpu,
    boolean enableKvm,
    boolean noGraphic,
    String monitor,
    Memory memory,
    Smp smp,
    Ovmf ovmf,
    Net net,
    Kernel kernel,
    Disk disk,
    SevSnp sevSnp,
    Tdx tdx,
    Gpu gpu,
    boolean startPaused,
    Duration stopGrace,
    Duration qmpTimeout) {

  public record Memory(String size, int slots, String max, String id) {
    /** The guest's memory in bytes. */
    public long sizeBytes() {
      return bytesOf(size);
    }

    /** Bytes of a size as QEMU's -m reads it (a bare number is MiB), or -1 if it is not one. */
    public static long bytesOf(String size) {
      return ConfigValues.bytes(size);
    }
  }

  public record Smp(int count, int maxCpus) {}

  public record Ovmf(String codeFile, String codeIf, String codeFormat, int codeUnit, String codeReadonly,
      String varsFile, String varsIf, String varsFormat, int varsUnit, String version) {}

  public record Net(String netdevId, int hostFwdAgent, int guestFwdAgent, PortRange hostFwdRange,
      String disableLegacy, String iommuPlatform, String addr, String romfile) {}

  public record Kernel(String kernelFile, String rootfsFile, String cmdline) {}

  public record Disk(boolean enabled, String srcFile, String id, String format, String scsiId, DiskClone cloneMethod) {}

  /** {@code hostData} is MANAGER_QEMU_HOST_DATA (base64 of 32 bytes) when set. */
  public record SevSnp(Tristate enable, String id, int cbitpos, int reducedPhysBits, boolean enableHostData,
      Optional<String> hostData, String igvmId, String igvmFile) {}

  public record Tdx(Tristate enable, String id, int quoteGenerationPort, String ovmfFile) {}

  /** {@code devices} not {@link GpuDevices#enabled() enabled}: no GPU passthrough. */
  public record Gpu(GpuDevices devices, String pcieRootPort, String pcieBus, long fwCfgMmioMb) {}

  /**
   * MANAGER_QEMU_GPU_BDF: the host's GPUs for passthrough, each VM taking one free GPU. {@code auto}: every NVIDIA GPU
   * bound to vfio-pci (found by the host inventory); else the BDFs listed, in the order given; neither: no GPU mode.
   */
  public record GpuDevices(boolean auto, List<String> bdfs) {
    public static final String AUTO = "auto";
    private static final Pattern BDF = Pattern.compile("([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
    public static final GpuDevices NONE = new GpuDevices(false, List.of());

    public GpuDevices {
      bdfs = List.copyOf(bdfs);
    }

    public boolean enabled() {
      return auto || !bdfs.isEmpty();
    }

    /** A PCI address, {@code 0000:01:00.0} (the domain may be left out). */
    public static boolean isPciAddress(String text) {
      return BDF.matcher(text).matches();
    }

    /** The one spelling of a PCI address: lower case, with its domain (0000 when left out). */
    public static String canonical(String bdf) {
      String lower = bdf.toLowerCase(Locale.ROOT);
      return lower.length() == "01:00.0".length() ? "0000:" + lower : lower;
    }

    /** The setting as the host inventory reads it: empty, {@code auto} or the comma list. */
    public String setting() {
      return auto ? AUTO : String.join(",", bdfs);
    }
  }

  /** The configuration one VM is launched with: its own vCPUs and memory in place of the configured ones. */
  public QemuConfig withVmSize(int vcpus, String memorySize) {
    return new QemuConfig(binPath, useSudo, machine, cpu, enableKvm, noGraphic, monitor,
        new Memory(memorySize, memory.slots(), memory.max(), memory.id()), new Smp(vcpus, smp.maxCpus()), ovmf, net,
        kernel, disk, sevSnp, tdx, gpu, startPaused, stopGrace, qmpTimeout);
  }

  public QemuConfig withBinPath(String resolved) {
    return new QemuConfig(resolved, useSudo, machine, cpu, enableKvm, noGraphic, monitor, memory, smp, ovmf, net,
        kernel, disk, sevSnp, tdx, gpu, startPaused, stopGrace, qmpTimeout);
  }
}
