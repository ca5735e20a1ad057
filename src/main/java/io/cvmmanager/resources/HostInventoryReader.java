package io.cvmmanager.resources;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the host's inventory below a root directory ("/" in production, a fake tree in tests). Blocking file reads:
 * its caller runs it off the event loop. A file that is missing or does not parse leaves its resource unknown, with
 * a warning, rather than failing the whole read.
 */
public final class HostInventoryReader {
  /** A PCI address as sysfs names devices: domain, bus, device, function. */
  private static final Pattern BDF = Pattern.compile("[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]");
  private static final String NVIDIA = "0x10de";
  /** VGA-compatible and 3D controllers: the classes upstream's detection takes for a GPU. */
  private static final List<String> GPU_CLASSES = List.of("0x030000", "0x030200");
  /** A PCI bridge may share a GPU's IOMMU group without being given to vfio-pci (the kernel allows it). */
  private static final String PCI_BRIDGE_CLASS = "0x0604";
  private static final String VFIO = "vfio-pci";
  private static final Pattern NUMA_NODE = Pattern.compile("node[0-9]{1,6}");

  private HostInventoryReader() {}

  /**
   * @param reservedMemory what the host keeps for itself (MANAGER_HOST_RESERVED_MEMORY), in bytes
   * @param gpuSetting MANAGER_QEMU_GPU_BDF: empty (no GPUs), {@code auto} (every NVIDIA GPU bound to vfio-pci
   *     whose IOMMU group holds nothing else of the host's), or a comma list of BDFs (taken as given, as upstream
   *     takes its one BDF)
   */
  public static HostInventory read(Path root, Path stateDir, long reservedMemory, String gpuSetting) {
    List<String> warnings = new ArrayList<>();
    return new HostInventory(memory(root, reservedMemory, warnings), cpus(root, warnings),
        contexts(root, "sev_es", warnings), contexts(root, "tdx", warnings), gpus(root, gpuSetting, warnings),
        diskFree(stateDir, warnings), warnings, numaNodes(root, warnings));
  }

  /**
   * The NUMA nodes of {@code sys/devices/system/node}: each {@code node<id>}'s {@code cpulist} and its
   * {@code meminfo} line {@code Node <id> MemTotal: <kB> kB}. A node that cannot be read makes them all unknown
   * (placing VMs on some nodes of a host whose others are not known would misplace them).
   */
  private static List<NumaNode> numaNodes(Path root, List<String> warnings) {
    Path nodes = root.resolve("sys/devices/system/node");
    List<Integer> ids = list(nodes).stream().filter(name -> NUMA_NODE.matcher(name).matches())
        .map(name -> Integer.parseInt(name.substring("node".length()))).sorted().toList();
    List<NumaNode> read = new ArrayList<>();
    for (int id : ids) {
      Path node = nodes.resolve("node" + id);
      Optional<String> cpuList = read(node.resolve("cpulist")).map(String::trim);
      String memTotal = "Node " + id + " MemTotal:";
      Optional<Long> totalKib = read(node.resolve("meminfo")).flatMap(text -> text.lines().map(String::trim)
          .filter(line -> line.startsWith(memTotal))
          .map(line -> line.substring(memTotal.length()).trim().split("\\s+")[0])
          .findFirst()
          .flatMap(HostInventoryReader::parseLong));
      try {
        cpuList.ifPresent(CpuList::parse);
      } catch (IllegalArgumentException e) {
        cpuList = Optional.empty();
      }
      if (cpuList.isEmpty() || totalKib.isEmpty()) {
        warnings.add(node + ": no " + (cpuList.isEmpty() ? "CPU list (cpulist)" : "MemTotal (meminfo)")
            + "; NUMA nodes unknown, VMs are not placed on nodes");
        return List.of();
      }
      read.add(new NumaNode(id, cpuList.get(), totalKib.get() * 1024));
    }
    return read;
  }

  private static OptionalLong memory(Path root, long reserved, List<String> warnings) {
    Optional<String> meminfo = read(root.resolve("proc/meminfo"));
    Optional<Long> totalKib = meminfo.flatMap(text -> text.lines()
        .filter(line -> line.startsWith("MemTotal:"))
        .map(line -> line.substring("MemTotal:".length()).trim().split("\\s+")[0])
        .findFirst()
        .flatMap(HostInventoryReader::parseLong));
    if (totalKib.isEmpty()) {
      warnings.add(root.resolve("proc/meminfo") + ": no MemTotal; guest memory is not limited");
      return OptionalLong.empty();
    }
    return OptionalLong.of(Math.max(0, totalKib.get() * 1024 - reserved));
  }

  private static OptionalInt cpus(Path root, List<String> warnings) {
    Path online = root.resolve("sys/devices/system/cpu/online");
    try {
      return read(online).map(text -> OptionalInt.of(CpuList.parse(text).cardinality())).orElseGet(() -> {
        warnings.add(online + ": missing; vCPUs are not limited");
        return OptionalInt.empty();
      });
    } catch (IllegalArgumentException e) {
      warnings.add(online + ": " + e.getMessage() + "; vCPUs are not limited");
      return OptionalInt.empty();
    }
  }

  /** One kind of encryption context from the misc cgroup, when the kernel counts it. */
  private static Optional<ContextPool> contexts(Path root, String kind, List<String> warnings) {
    Path capacityFile = root.resolve("sys/fs/cgroup/misc.capacity");
    Optional<Integer> capacity = read(capacityFile).flatMap(text -> miscValue(text, kind));
    if (capacity.isEmpty()) {
      return Optional.empty();
    }
    Path currentFile = root.resolve("sys/fs/cgroup/misc.current");
    Optional<Integer> inUse = read(currentFile).flatMap(text -> miscValue(text, kind));
    if (inUse.isEmpty()) {
      warnings.add(currentFile + ": no " + kind + " line; taking none in use outside this manager");
    }
    return Optional.of(new ContextPool(capacity.get(), inUse.orElse(0)));
  }

  /** The value of {@code key} in a misc cgroup file: one {@code <name> <number>} a line. */
  private static Optional<Integer> miscValue(String text, String key) {
    return text.lines()
        .map(line -> line.trim().split("\\s+"))
        .filter(fields -> fields.length == 2 && fields[0].equals(key))
        .findFirst()
        .flatMap(fields -> parseLong(fields[1]))
        .filter(value -> value >= 0 && value <= Integer.MAX_VALUE)
        .map(Long::intValue);
  }

  private static List<Gpu> gpus(Path root, String setting, List<String> warnings) {
    String trimmed = setting.trim();
    if (trimmed.isEmpty()) {
      return List.of();
    }
    if (!trimmed.equals("auto")) {
      return Stream.of(trimmed.split(",")).map(String::trim).filter(bdf -> !bdf.isEmpty())
          .map(bdf -> new Gpu(bdf, "")).distinct().toList();
    }
    Path bound = root.resolve("sys/bus/pci/drivers").resolve(VFIO);
    List<Gpu> gpus = new ArrayList<>();
    for (String bdf : list(bound)) {
      if (!BDF.matcher(bdf).matches()) {
        continue;
      }
      Path device = root.resolve("sys/bus/pci/devices").resolve(bdf);
      if (!read(device.resolve("vendor")).map(String::trim).orElse("").equals(NVIDIA)
          || !GPU_CLASSES.contains(read(device.resolve("class")).map(String::trim).orElse(""))) {
        continue;
      }
      Optional<String> group = linkName(device.resolve("iommu_group"));
      if (group.isEmpty()) {
        warnings.add("GPU " + bdf + ": no IOMMU group; skipped");
        continue;
      }
      List<String> others = list(root.resolve("sys/kernel/iommu_groups").resolve(group.get()).resolve("devices"))
          .stream().filter(other -> !other.equals(bdf))
          .filter(other -> !isBridge(root, other) && !linkName(root.resolve("sys/bus/pci/devices").resolve(other)
              .resolve("driver")).equals(Optional.of(VFIO)))
          .toList();
      if (!others.isEmpty()) {
        warnings.add("GPU " + bdf + ": its IOMMU group " + group.get() + " also holds " + String.join(", ", others)
            + ", not bound to vfio-pci; skipped (passing it through would take them from the host)");
        continue;
      }
      gpus.add(new Gpu(bdf, group.get()));
    }
    return gpus;
  }

  private static boolean isBridge(Path root, String bdf) {
    return read(root.resolve("sys/bus/pci/devices").resolve(bdf).resolve("class")).map(String::trim)
        .filter(c -> c.startsWith(PCI_BRIDGE_CLASS)).isPresent();
  }

  private static OptionalLong diskFree(Path stateDir, List<String> warnings) {
    try {
      Path existing = stateDir;
      while (existing != null && !Files.exists(existing)) {
        existing = existing.getParent();
      }
      if (existing == null) {
        throw new IOException("no part of it exists");
      }
      return OptionalLong.of(Files.getFileStore(existing).getUsableSpace());
    } catch (IOException e) {
      warnings.add("state dir " + stateDir + ": free space unknown (" + e.getMessage() + ")");
      return OptionalLong.empty();
    }
  }

  /** The names in a directory, sorted; none if it cannot be listed. */
  private static List<String> list(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The last name of a symbolic link's target ({@code driver} → {@code vfio-pci}, {@code iommu_group} → N). */
  private static Optional<String> linkName(Path link) {
    try {
      return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file, StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<Long> parseLong(String text) {
    try {
      return Optional.of(Long.parseLong(text.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
