package io.cvmmanager.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.testing.FakeHostTree;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host inventory read from fake trees shaped as /proc and /sys are. */
class HostInventoryReaderTest {
  private static final long GIB = 1L << 30;

  @TempDir
  Path root;

  private void write(String file, String text) throws Exception {
    new FakeHostTree(root).write(file, text);
  }

  private void device(String bdf, String vendor, String pciClass, String driver, String group) throws Exception {
    new FakeHostTree(root).device(bdf, vendor, pciClass, driver, group);
  }

  private HostInventory read(String gpus) {
    return HostInventoryReader.read(root, root.resolve("state"), 2 * GIB, gpus);
  }

  @Test
  void memoryIsMemTotalLessTheReserveAndCpusAreTheOnlineOnes() throws Exception {
    write("proc/meminfo", "MemTotal:       32768000 kB\nMemFree:        1000 kB\n");
    write("sys/devices/system/cpu/online", "0-3,6,8-9\n");
    HostInventory inventory = read("");
    assertEquals(OptionalLong.of(32768000L * 1024 - 2 * GIB), inventory.memoryBytes());
    assertEquals(OptionalInt.of(7), inventory.cpus());
    assertEquals(List.of(), inventory.gpus());
    assertTrue(inventory.diskFreeBytes().isPresent(), "the free space of the state dir's file system, before it exists");
  }

  @Test
  void aReserveLargerThanTheHostLeavesNoMemoryRatherThanLess() throws Exception {
    write("proc/meminfo", "MemTotal: 1048576 kB\n");
    assertEquals(OptionalLong.of(0), read("").memoryBytes());
  }

  @Test
  void whatTheHostDoesNotTellLimitsNothingAndIsSaid() throws Exception {
    write("sys/devices/system/cpu/online", "zero\n");
    HostInventory inventory = read("");
    assertEquals(OptionalLong.empty(), inventory.memoryBytes());
    assertEquals(OptionalInt.empty(), inventory.cpus());
    assertEquals(Optional.empty(), inventory.sevSnp());
    assertEquals(Optional.empty(), inventory.tdx());
    assertTrue(inventory.warnings().stream().anyMatch(w -> w.contains("no MemTotal")), inventory.warnings().toString());
    assertTrue(inventory.warnings().stream().anyMatch(w -> w.contains("not a CPU list: \"zero\"")),
        inventory.warnings().toString());
  }

  @Test
  void snpContextsAreTheSevEsAsidsAndTheirUseComesFromMiscCurrent() throws Exception {
    write("sys/fs/cgroup/misc.capacity", "sev 509\nsev_es 100\n");
    write("sys/fs/cgroup/misc.current", "sev 3\nsev_es 4\n");
    HostInventory inventory = read("");
    assertEquals(Optional.of(new ContextPool(100, 4)), inventory.sevSnp());
    assertEquals(Optional.empty(), inventory.tdx(), "no tdx line");
  }

  @Test
  void aCapacityWithoutItsUseCountsNoneInUseAndSaysSo() throws Exception {
    write("sys/fs/cgroup/misc.capacity", "tdx 31\n");
    HostInventory inventory = read("");
    assertEquals(Optional.of(new ContextPool(31, 0)), inventory.tdx());
    assertTrue(inventory.warnings().stream().anyMatch(w -> w.contains("misc.current") && w.contains("tdx")),
        inventory.warnings().toString());
  }

  @Test
  void autoTakesNvidiaGpusBoundToVfioWhoseIommuGroupHoldsNothingOfTheHosts() throws Exception {
    device("0000:01:00.0", "0x10de", "0x030200", "vfio-pci", "11");
    // Its audio function, also given to vfio-pci, and a bridge: the group can go to a guest.
    device("0000:02:00.0", "0x10de", "0x030000", "vfio-pci", "12");
    device("0000:02:00.1", "0x10de", "0x040300", "vfio-pci", "12");
    device("0000:00:1c.0", "0x8086", "0x060400", "pcieport", "12");
    // Its group holds a device the host still drives.
    device("0000:03:00.0", "0x10de", "0x030200", "vfio-pci", "13");
    device("0000:03:00.1", "0x10de", "0x040300", "snd_hda_intel", "13");
    // Not NVIDIA; not a GPU; not bound to vfio-pci.
    device("0000:04:00.0", "0x1002", "0x030000", "vfio-pci", "14");
    device("0000:05:00.0", "0x10de", "0x020000", "vfio-pci", "15");
    device("0000:06:00.0", "0x10de", "0x030200", "nvidia", "16");
    HostInventory inventory = read("auto");
    assertEquals(List.of(new Gpu("0000:01:00.0", "11"), new Gpu("0000:02:00.0", "12")), inventory.gpus());
    assertTrue(inventory.warnings().stream().anyMatch(w -> w.startsWith("GPU 0000:03:00.0")
        && w.contains("0000:03:00.1")), inventory.warnings().toString());
  }

  @Test
  void aListOfBdfsIsTakenAsGivenAsUpstreamTakesItsOne() {
    assertEquals(List.of(new Gpu("0000:01:00.0", ""), new Gpu("0000:81:00.0", "")),
        read(" 0000:01:00.0, 0000:81:00.0 ,0000:01:00.0").gpus());
  }
}
