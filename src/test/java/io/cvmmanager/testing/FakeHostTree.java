package io.cvmmanager.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fake host for MANAGER_HOST_ROOT, shaped as /proc, /sys and /dev are: what the host detection and the host
 * inventory read (memory, online CPUs, NUMA nodes, the misc cgroup's TEE contexts, PCI devices with their drivers and IOMMU
 * groups, KVM and the CPU flags), so that admission is tested with the host a test needs.
 */
public final class FakeHostTree {
  private final Path root;

  public FakeHostTree(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** {@code relative} below the root, with {@code text}. */
  public FakeHostTree file(String relative, String text) {
    try {
      Path path = root.resolve(relative);
      Files.createDirectories(path.getParent());
      Files.writeString(path, text);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A symbolic link {@code link} (below the root) to {@code target}, relative as sysfs's are. */
  public FakeHostTree link(String link, String target) {
    try {
      Path path = root.resolve(link);
      Files.createDirectories(path.getParent());
      Files.createSymbolicLink(path, Path.of(target));
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code proc/meminfo} with this MemTotal (in kB, as the kernel writes it). */
  public FakeHostTree memTotal(long bytes) {
    return file("proc/meminfo", "MemTotal:       " + bytes / 1024 + " kB\nMemFree:        1024 kB\n");
  }

  /** {@code sys/devices/system/cpu/online}, e.g. {@code 0-3}. */
  public FakeHostTree cpusOnline(String list) {
    return file("sys/devices/system/cpu/online", list + "\n");
  }

  /**
   * NUMA node {@code id} in {@code sys/devices/system/node}: its {@code cpulist} (e.g. {@code 0-3}) and its
   * {@code meminfo} with this MemTotal (in kB, as the kernel writes it).
   */
  public FakeHostTree numaNode(int id, String cpuList, long memBytes) {
    String dir = "sys/devices/system/node/node" + id;
    return file(dir + "/cpulist", cpuList + "\n").file(dir + "/meminfo", "Node " + id + " MemTotal:       "
        + memBytes / 1024 + " kB\nNode " + id + " MemFree:        1024 kB\n");
  }

  /** The misc cgroup's {@code misc.capacity} and {@code misc.current}, e.g. {@code "sev 10\nsev_es 2\n"}. */
  public FakeHostTree miscCgroup(String capacity, String current) {
    return file("sys/fs/cgroup/misc.capacity", capacity).file("sys/fs/cgroup/misc.current", current);
  }

  /** KVM, and the CPU flags and the kvm module parameter of a TEE (e.g. {@code sev_snp} of {@code kvm_amd}). */
  public FakeHostTree kvm(String cpuFlags, String moduleParameter) {
    return file("dev/kvm", "").file("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 " + cpuFlags + "\n")
        .file(moduleParameter, "Y\n");
  }

  /** A PCI device in sysfs: vendor, class, driver (null: none) and IOMMU group. */
  public FakeHostTree pciDevice(String bdf, String vendor, String pciClass, String driver, String group) {
    String dir = "sys/bus/pci/devices/" + bdf;
    file(dir + "/vendor", vendor + "\n").file(dir + "/class", pciClass + "\n");
    if (driver != null) {
      link(dir + "/driver", "../../../../bus/pci/drivers/" + driver);
      link("sys/bus/pci/drivers/" + driver + "/" + bdf, "../../../../devices/pci0000:00/" + bdf);
    }
    link(dir + "/iommu_group", "../../../../kernel/iommu_groups/" + group);
    return link("sys/kernel/iommu_groups/" + group + "/devices/" + bdf, "../../../../devices/pci0000:00/" + bdf);
  }

  /** An NVIDIA 3D controller bound to vfio-pci, alone in IOMMU group {@code group}: a GPU a VM may be given. */
  public FakeHostTree vfioGpu(String bdf, String group) {
    return pciDevice(bdf, "0x10de", "0x030200", "vfio-pci", group);
  }
}
