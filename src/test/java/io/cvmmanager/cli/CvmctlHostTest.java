package io.cvmmanager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.FakeHostTree;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cvmctl host} against a manager on a fake host (30 GiB after the reserve, 8 CPUs, 15 TDX key ids of which
 * other guests use 2, two vfio GPUs and one that cannot be given) with the fake QEMU: the table of resources, the
 * GPUs with their holder, the warnings; and {@code --json}.
 */
class CvmctlHostTest {
  private static final long GIB = 1L << 30;

  @TempDir
  Path dir;

  @Test
  void hostPrintsEachResourceAndEachGpuWithItsVm() throws Exception {
    FakeHostTree host = new FakeHostTree(dir.resolve("host")).memTotal(32 * GIB).cpusOnline("0-7")
        .miscCgroup("tdx 15\n", "tdx 2\n")
        .vfioGpu("0000:01:00.0", "11").vfioGpu("0000:81:00.0", "40")
        // Its group holds the host's sound card: skipped, with a warning.
        .vfioGpu("0000:82:00.0", "41").pciDevice("0000:82:00.1", "0x10de", "0x040300", "snd_hda_intel", "41");
    Map<String, String> settings = Map.of("MANAGER_HOST_ROOT", host.root().toString(),
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir).toString(), "MANAGER_QEMU_GPU_BDF", "auto",
        "MANAGER_MEMORY_OVERCOMMIT", "1.5", "MANAGER_CPU_OVERCOMMIT", "4",
        "MANAGER_QEMU_MEMORY_SIZE", "2560M", "MANAGER_QEMU_SMP_COUNT", "4");
    try (TestManager manager = TestManager.start(dir.resolve("state"), TestPorts.range(2), settings)) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      Map<String, String> env = Map.of(ManagerConnection.URL, "localhost:" + manager.config().grpc().port());

      CvmctlRun table = CvmctlRun.of(env, "host");
      assertEquals(0, table.exit(), table.err());
      List<String> lines = table.lines();
      assertEquals(List.of(
          "RESOURCE          CAPACITY  ALLOCATED  FREE",
          "memory            30 GiB    2.5 GiB    42.5 GiB",
          "vcpus             8         4          28",
          "sev-snp-contexts  -         0          -",
          "tdx-contexts      15        0          13",
          "gpus              2         1          1"), lines.subList(0, 6), table.out());
      assertTrue(lines.get(6).matches("disk +[0-9.]+ [MGTP]iB +0 MiB +[0-9.]+ [MGTP]iB"), lines.get(6));
      assertEquals(List.of(
          "vms               10        1          9",
          "",
          "GPU           IOMMU GROUP  VM",
          "0000:01:00.0  11           " + id,
          "0000:81:00.0  40           free",
          ""), lines.subList(7, 13), table.out());
      assertEquals(14, lines.size(), table.out());
      assertTrue(lines.get(13).startsWith("warning: GPU 0000:82:00.0") && lines.get(13).contains("0000:82:00.1"),
          lines.get(13));

      CvmctlRun json = CvmctlRun.of(env, "host", "--json");
      assertEquals(0, json.exit(), json.err());
      JsonObject object = new JsonObject(json.out());
      assertEquals(manager.health().getJsonObject("host"), object, "as /health has it");
      JsonArray resources = object.getJsonArray("resources");
      assertEquals(new JsonObject().put("name", "memory").put("unit", "bytes").put("capacity", 30 * GIB)
          .put("allocated", 2560L << 20).put("free", 45 * GIB - (2560L << 20)), resources.getJsonObject(0));
      assertEquals(new JsonObject().put("name", "sev-snp-contexts").put("unit", "count").put("allocated", 0),
          resources.getJsonObject(2), "what the host does not tell is left out");
      assertEquals(new JsonObject().put("bdf", "0000:81:00.0").put("iommuGroup", "40"),
          object.getJsonArray("gpus").getJsonObject(1), "a free GPU has no vmId");
    }
  }

  @Test
  void bytesAreShownInTheLargestBinaryUnitFromMebibytesAndCountsAsThey() {
    assertEquals("0 MiB", HostCommand.amount(0, true));
    assertEquals("512 MiB", HostCommand.amount(512L << 20, true));
    assertEquals("1023.9 MiB", HostCommand.amount((1L << 30) - (100L << 10), true));
    assertEquals("1 GiB", HostCommand.amount(1L << 30, true));
    assertEquals("1.5 GiB", HostCommand.amount(3L << 29, true));
    assertEquals("2 TiB", HostCommand.amount(2L << 40, true));
    assertEquals("2048", HostCommand.amount(2048, false));
  }
}
