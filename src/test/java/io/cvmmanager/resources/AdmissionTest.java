package io.cvmmanager.resources;

import static io.cvmmanager.resources.Admissions.assertRefused;
import static io.cvmmanager.resources.Admissions.created;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.FakeHostTree;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission of what a QEMU stand-in or the fake QEMU can show without hardware, over gRPC on fake host trees: a
 * STOPPING VM still holds its memory; SEV-SNP VMs are bounded by the host's {@code sev_es} contexts; in GPU mode each
 * VM takes a GPU of its own (its BDF in its argv, its view and state.json) and the next is refused; on a host of two
 * NUMA nodes each VM is bound to the freest node, under numactl.
 */
class AdmissionTest {
  private static final String CVM = "cvm.v1.CvmService";
  private static final long MIB = 1L << 20;
  /** The QEMU stand-in (it records its argv, serves QMP, runs no guest): no SEV-SNP hardware or GPU here. */
  private static final Path QEMU_STANDIN =
      Path.of("src/test/resources/attestation/qemu-standin-for-sev-snp.py").toAbsolutePath();

  @TempDir
  Path dir;

  private FakeHostTree host() {
    return new FakeHostTree(dir.resolve("host")).cpusOnline("0-1");
  }

  private Map<String, String> settings(FakeHostTree host) {
    Map<String, String> settings = new HashMap<>();
    settings.put("MANAGER_HOST_ROOT", host.root().toString());
    settings.put("MANAGER_HOST_RESERVED_MEMORY", "0");
    settings.put("MANAGER_MEMORY_OVERCOMMIT", "1");
    settings.put("MANAGER_CPU_OVERCOMMIT", "16");
    settings.put("MANAGER_MAX_VMS", "0");
    return settings;
  }

  private static List<Vm> vms(TestManager manager) {
    return manager.<ListVmsRequest, ListVmsResponse>call(CVM, "ListVms", ListVmsRequest.getDefaultInstance(),
        ListVmsResponse.newBuilder()).response().getVmsList();
  }

  /** The {@code host=} of the stand-in's {@code vfio-pci} device: the GPU QEMU was given. */
  private static List<String> gpusInArgv(TestManager manager, String id) throws Exception {
    JsonArray argv = new JsonArray(Files.readString(manager.vmDir(id).resolve("standin-argv.json")));
    return argv.stream().map(String.class::cast).filter(arg -> arg.startsWith("vfio-pci,"))
        .map(arg -> arg.replaceAll("^vfio-pci,host=([^,]+).*$", "$1")).toList();
  }

  @Test
  void aStoppingVmStillHoldsItsMemory() throws Exception {
    Map<String, String> settings = settings(host().memTotal(2048 * MIB));
    settings.put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, "hold=system_powerdown").toString());
    settings.put("MANAGER_QEMU_STOP_GRACE", "20s");
    try (TestManager manager = TestManager.start(dir.resolve("state"), TestPorts.range(4), settings)) {
      String first = created(manager);
      String second = created(manager);
      assertRefused(manager, "memory: 1024 MiB asked, 0 MiB free of 2048 MiB");

      Future<UnaryCall.Result<Empty>> removal = manager.removeAsync(first);
      FakeQemu.awaitHeld(manager.vmDir(first), "system_powerdown");
      await().atMost(Duration.ofSeconds(10)).until(() -> vms(manager).stream()
          .anyMatch(vm -> vm.getState() == VmState.STOPPING));
      assertRefused(manager, "memory: 1024 MiB asked, 0 MiB free of 2048 MiB");

      FakeQemu.release(manager.vmDir(first), "system_powerdown");
      assertEquals(GrpcStatus.OK, removal.await().status());
      String third = created(manager);
      removeHeld(manager, second);
      removeHeld(manager, third);
      manager.assertNothingLeft();
    }
  }

  /** Removes a VM of the fake QEMU that holds the ACPI powerdown, letting it go at once. */
  private static void removeHeld(TestManager manager, String id) {
    Future<UnaryCall.Result<Empty>> removal = manager.removeAsync(id);
    FakeQemu.awaitHeld(manager.vmDir(id), "system_powerdown");
    FakeQemu.release(manager.vmDir(id), "system_powerdown");
    assertEquals(GrpcStatus.OK, removal.await().status());
  }

  /** A create that fails after its admission (its QEMU exits at once) gives back what it was admitted with. */
  @Test
  void aFailedCreateGivesBackWhatItWasAdmittedWith() throws Exception {
    Map<String, String> settings = settings(host().memTotal(1024 * MIB));
    settings.put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, "exit=3").toString());
    try (TestManager manager = TestManager.start(dir.resolve("state"), TestPorts.range(2), settings)) {
      for (int i = 0; i < 3; i++) {
        UnaryCall.Result<CreateRes> failed = manager.create(CreateReq.getDefaultInstance());
        assertNotEquals(GrpcStatus.OK, failed.status());
        assertTrue(failed.message().contains("exit"), "failed for its QEMU, not for room: " + failed.message());
      }
      manager.assertNothingLeft();
    }
  }

  /**
   * A restarted manager takes back what its adopted VMs hold, as their records say: one of the current format, and
   * one of format 1 (written before records kept their resources), whose memory is read from its command line.
   */
  @Test
  void adoptedVmsHoldWhatTheirRecordsSayOldFormatIncluded() throws Exception {
    Map<String, String> settings = settings(host().memTotal(2048 * MIB));
    settings.put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir).toString());
    settings.put("MANAGER_STOP_VMS_ON_EXIT", "false");
    Path stateDir = dir.resolve("state");
    TestManager first = TestManager.start(stateDir, TestPorts.range(4), settings);
    String current;
    String old;
    try {
      current = created(first);
      old = created(first);
    } finally {
      first.stopLeavingVms();
    }
    Path oldRecord = stateDir.resolve("vms").resolve(old).resolve("state.json");
    JsonObject record = new JsonObject(Files.readString(oldRecord)).put("format", 1);
    record.remove("resources");
    Files.writeString(oldRecord, record.encodePrettily());

    settings.put("MANAGER_STOP_VMS_ON_EXIT", "true");
    try (TestManager second = TestManager.start(stateDir, TestPorts.range(4), settings)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> vms(second).size() == 2);
      assertRefused(second, "memory: 1024 MiB asked, 0 MiB free of 2048 MiB");
      assertEquals(GrpcStatus.OK, second.remove(old).status());
      String next = created(second);
      assertRefused(second, "memory: 1024 MiB asked, 0 MiB free of 2048 MiB");
      assertEquals(GrpcStatus.OK, second.remove(current).status());
      assertEquals(GrpcStatus.OK, second.remove(next).status());
      second.assertNothingLeft();
    }
  }

  @Test
  void theThirdSevSnpVmIsRefusedWhenTheHostHasTwoContexts() throws Exception {
    FakeHostTree host = host().kvm("sev sev_es sev_snp", "sys/module/kvm_amd/parameters/sev_snp")
        .miscCgroup("sev 509\nsev_es 2\n", "sev 0\nsev_es 0\n");
    Path igvm = Files.writeString(dir.resolve("coconut-qemu.igvm"), "IGVM image of the guest");
    Map<String, String> settings = settings(host);
    settings.put("MANAGER_QEMU_ENABLE_KVM", "true");
    settings.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    settings.put("MANAGER_QEMU_IGVM_FILE", igvm.toString());
    settings.put("MANAGER_QEMU_BIN_PATH", QEMU_STANDIN.toString());
    try (TestManager manager = TestManager.startChecked(dir.resolve("state"), TestPorts.range(4), settings)) {
      List<String> ids = new ArrayList<>(List.of(created(manager), created(manager)));
      assertRefused(manager, "sev-snp contexts: 0 free of 2");
      assertEquals(GrpcStatus.OK, manager.remove(ids.remove(0)).status());
      ids.add(created(manager));
      for (String id : ids) {
        assertEquals(GrpcStatus.OK, manager.remove(id).status());
      }
      manager.assertNothingLeft();
    }
  }

  @Test
  void inGpuModeEachVmHoldsAGpuOfItsOwnAndTheThirdIsRefused() throws Exception {
    FakeHostTree host = host().vfioGpu("0000:41:00.0", "40").vfioGpu("0000:c1:00.0", "41");
    Map<String, String> settings = settings(host);
    settings.put("MANAGER_MEMORY_OVERCOMMIT", "100");
    settings.put("MANAGER_QEMU_GPU_BDF", "auto");
    settings.put("MANAGER_QEMU_BIN_PATH", QEMU_STANDIN.toString());
    try (TestManager manager = TestManager.start(dir.resolve("state"), TestPorts.range(4), settings)) {
      String first = created(manager);
      String second = created(manager);
      assertEquals(List.of("0000:41:00.0"), gpusInArgv(manager, first));
      assertEquals(List.of("0000:c1:00.0"), gpusInArgv(manager, second));
      assertEquals(List.of("0000:41:00.0", "0000:c1:00.0"), vms(manager).stream().map(Vm::getGpu).sorted().toList(),
          "each VM's view names its GPU");
      assertEquals("0000:41:00.0", new JsonObject(Files.readString(manager.vmDir(first).resolve("state.json")))
          .getJsonObject("resources").getString("gpu"));
      assertRefused(manager, "GPUs: none free of 2");

      assertEquals(GrpcStatus.OK, manager.remove(first).status());
      String third = created(manager);
      assertEquals(List.of("0000:41:00.0"), gpusInArgv(manager, third), "the GPU given back is handed out again");
      assertNotEquals(first, third);
      assertEquals(GrpcStatus.OK, manager.remove(second).status());
      assertEquals(GrpcStatus.OK, manager.remove(third).status());
      manager.assertNothingLeft();
    }
  }

  /**
   * On a host of two NUMA nodes (2 GiB and 1 GiB) each VM is bound to the node with the most free memory: its argv
   * has its RAM as a memory-backend-ram bound to that node, its record the placement, and its QEMU runs under
   * numactl. Node 1 does not exist on this machine: the VM placed there fails in numactl (which shows that the
   * spawn goes through it) and gives its claim back.
   */
  @Test
  void onATwoNodeHostEachVmIsBoundToTheFreestNodeUnderNumactl() throws Exception {
    FakeHostTree host = host().memTotal(3072 * MIB).numaNode(0, "0-1", 2048 * MIB).numaNode(1, "2-3", 1024 * MIB);
    Map<String, String> settings = settings(host);
    settings.put("MANAGER_QEMU_BIN_PATH", QEMU_STANDIN.toString());
    try (TestManager manager = TestManager.start(dir.resolve("state"), TestPorts.range(4), settings)) {
      String first = created(manager);
      String second = created(manager);
      for (String id : List.of(first, second)) {
        List<String> argv = new JsonArray(Files.readString(manager.vmDir(id).resolve("standin-argv.json")))
            .stream().map(String.class::cast).toList();
        assertTrue(argv.contains("memory-backend-ram,id=ram1,size=1024M,host-nodes=0,policy=bind"), argv::toString);
        assertEquals("memory-backend=ram1", argv.get(argv.lastIndexOf("-machine") + 1));
        assertEquals(new JsonObject().put("plan", "BIND").put("shares", new JsonArray().add(new JsonObject()
            .put("node", 0).put("memoryBytes", 1024 * MIB))), new JsonObject(Files.readString(
                manager.vmDir(id).resolve("state.json"))).getJsonObject("resources").getJsonObject("placement"));
      }
      assertEquals(List.of("0", "0"), vms(manager).stream().map(Vm::getNumaNodes).toList(), "GetVm's numa_nodes");
      UnaryCall.Result<CreateRes> onNodeOne = manager.create(CreateReq.getDefaultInstance());
      assertEquals(GrpcStatus.FAILED_PRECONDITION, onNodeOne.status(), onNodeOne.message());
      assertTrue(onNodeOne.message().contains("use --cpunodebind or --physcpubind instead"), "numactl's usage: "
          + onNodeOne.message());
      assertEquals(GrpcStatus.OK, manager.remove(first).status());
      assertEquals(second, vms(manager).stream().filter(vm -> vm.getState() == VmState.RUNNING).map(Vm::getId)
          .findFirst().orElseThrow());
      String third = created(manager);
      assertEquals(GrpcStatus.OK, manager.remove(second).status());
      assertEquals(GrpcStatus.OK, manager.remove(third).status());
      manager.assertNothingLeft();
    }
  }
}
