package io.cvmmanager.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fake host below a test's directory, for MANAGER_HOST_ROOT: {@code /proc} and {@code /sys} files as the kernel
 * shapes them, and PCI devices with their driver and IOMMU group as sysfs links them.
 */
public record FakeHostTree(Path root) {
  /** Writes {@code text} to {@code file} below the root, making its directories. */
  public FakeHostTree write(String file, String text) throws IOException {
    Path path = root.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, text);
    return this;
  }

  /** {@code proc/meminfo} with this MemTotal. */
  public FakeHostTree memTotalKib(long kib) throws IOException {
    return write("proc/meminfo", "MemTotal:       " + kib + " kB\nMemFree:        1000 kB\n");
  }

  /** {@code sys/devices/system/cpu/online}, e.g. {@code 0-3}. */
  public FakeHostTree onlineCpus(String list) throws IOException {
    return write("sys/devices/system/cpu/online", list + "\n");
  }

  /** A PCI device in sysfs: vendor, class, driver (null: none) and IOMMU group. */
  public FakeHostTree device(String bdf, String vendor, String pciClass, String driver, String group)
      throws IOException {
    String dir = "sys/bus/pci/devices/" + bdf;
    write(dir + "/vendor", vendor + "\n");
    write(dir + "/class", pciClass + "\n");
    if (driver != null) {
      link(dir + "/driver", "../../../../bus/pci/drivers/" + driver);
      link("sys/bus/pci/drivers/" + driver + "/" + bdf, "../../../../devices/pci0000:00/" + bdf);
    }
    link(dir + "/iommu_group", "../../../../kernel/iommu_groups/" + group);
    link("sys/kernel/iommu_groups/" + group + "/devices/" + bdf, "../../../../devices/pci0000:00/" + bdf);
    return this;
  }

  /** An NVIDIA 3D controller bound to vfio-pci, alone in its IOMMU group: a GPU {@code auto} takes. */
  public FakeHostTree vfioGpu(String bdf, String group) throws IOException {
    return device(bdf, "0x10de", "0x030200", "vfio-pci", group);
  }

  private void link(String link, String target) throws IOException {
    Path path = root.resolve(link);
    Files.createDirectories(path.getParent());
    Files.createSymbolicLink(path, Path.of(target));
  }
}
