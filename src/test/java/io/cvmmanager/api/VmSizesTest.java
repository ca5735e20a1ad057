package io.cvmmanager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.CreateVmRequest;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.FakeHostTree;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our CreateVm's per-VM sizes over a real client and socket, with the fake QEMU: each size out of its bound is
 * INVALID_ARGUMENT quoting it, with nothing made; a GPU asked for outside GPU mode is FAILED_PRECONDITION; in GPU
 * mode a VM may name its GPU, take none, or take any free one, and a GPU already held is RESOURCE_EXHAUSTED.
 */
class VmSizesTest {
  private static final String CVM = "cvm.v1.CvmService";

  @TempDir
  Path dir;

  private TestManager start(Map<String, String> extra) throws Exception {
    Map<String, String> settings = new HashMap<>(Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir).toString(),
        "MANAGER_QEMU_SMP_MAXCPUS", "4", "MANAGER_QEMU_MAX_MEMORY", "2G"));
    settings.putAll(extra);
    return TestManager.start(dir.resolve("state"), TestPorts.range(3), settings);
  }

  private static UnaryCall.Result<CreateRes> create(TestManager manager, CreateVmRequest.Builder request) {
    return manager.call(CVM, "CreateVm", request.build(), CreateRes.newBuilder());
  }

  private static void assertRefused(TestManager manager, CreateVmRequest.Builder request, GrpcStatus status,
      String message) throws Exception {
    List<String> before = manager.vmDirs();
    UnaryCall.Result<CreateRes> refused = create(manager, request);
    assertEquals(status, refused.status(), refused.message());
    assertTrue(refused.message().contains(message), refused.message());
    assertEquals(before, manager.vmDirs(), "nothing is made for a refused VM");
  }

  private static Vm vm(TestManager manager, String id) {
    return manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
        Vm.newBuilder()).response();
  }

  @Test
  void sizesOutOfTheirBoundsAreRefusedWithNothingMade() throws Exception {
    try (TestManager manager = start(Map.of())) {
      assertRefused(manager, CreateVmRequest.newBuilder().setVcpus(0), GrpcStatus.INVALID_ARGUMENT,
          "vcpus: 0 is not within 1 and MANAGER_QEMU_SMP_MAXCPUS (4)");
      assertRefused(manager, CreateVmRequest.newBuilder().setVcpus(5), GrpcStatus.INVALID_ARGUMENT,
          "vcpus: 5 is not within 1 and MANAGER_QEMU_SMP_MAXCPUS (4)");
      assertRefused(manager, CreateVmRequest.newBuilder().setVcpus(-1), GrpcStatus.INVALID_ARGUMENT,
          "vcpus: 4294967295 is not within");
      assertRefused(manager, CreateVmRequest.newBuilder().setMemory("lots"), GrpcStatus.INVALID_ARGUMENT,
          "memory: \"lots\" is not a size in whole MiB like 512M or 4G");
      assertRefused(manager, CreateVmRequest.newBuilder().setMemory("3G"), GrpcStatus.INVALID_ARGUMENT,
          "memory: \"3G\" is not within 16M and MANAGER_QEMU_MAX_MEMORY (2G)");
      assertRefused(manager, CreateVmRequest.newBuilder().setMemory("1500K"), GrpcStatus.INVALID_ARGUMENT,
          "whole MiB");
      assertRefused(manager, CreateVmRequest.newBuilder().setMemory("1".repeat(40)), GrpcStatus.INVALID_ARGUMENT,
          "memory is 40 bytes long; at most 32");
      assertRefused(manager, CreateVmRequest.newBuilder().setRequest(CreateReq.newBuilder().setTtl("9".repeat(100))),
          GrpcStatus.INVALID_ARGUMENT, "request.ttl is 100 bytes long; at most 64");
      assertRefused(manager, CreateVmRequest.newBuilder().setGpu("any"), GrpcStatus.FAILED_PRECONDITION,
          "GPU mode is off");
      assertRefused(manager, CreateVmRequest.newBuilder().setGpu("the fast one"), GrpcStatus.INVALID_ARGUMENT,
          "gpu: \"the fast one\" is not any, none or a PCI address");

      UnaryCall.Result<CreateRes> sized = create(manager, CreateVmRequest.newBuilder().setVcpus(3)
          .setMemory("1536").setGpu("none"));
      assertEquals(GrpcStatus.OK, sized.status(), sized.message());
      Vm vm = vm(manager, sized.response().getCvmId());
      assertEquals(3, vm.getVcpus());
      assertEquals(1536L << 20, vm.getMemoryBytes(), "a bare number is MiB, as for QEMU's -m");
      JsonObject record = new JsonObject(Files.readString(manager.vmDir(vm.getId()).resolve("state.json")));
      assertEquals("1536M", record.getJsonObject("config").getString("memory"), "one spelling QEMU takes");
      assertTrue(record.getJsonArray("command").stream().anyMatch(a -> ((String) a).startsWith("1536M,")),
          record.getJsonArray("command").toString());
      assertEquals(GrpcStatus.OK, manager.remove(vm.getId()).status());
    }
  }

  @Test
  void inGpuModeAVmNamesItsGpuTakesNoneOrAnyFreeOne() throws Exception {
    FakeHostTree host = new FakeHostTree(dir.resolve("host")).vfioGpu("0000:41:00.0", "40")
        .vfioGpu("0000:c1:00.0", "41");
    try (TestManager manager = start(Map.of("MANAGER_HOST_ROOT", host.root().toString(),
        "MANAGER_QEMU_GPU_BDF", "auto"))) {
      String named = create(manager, CreateVmRequest.newBuilder().setGpu("C1:00.0")).response().getCvmId();
      assertEquals("0000:c1:00.0", vm(manager, named).getGpu(), "any spelling of the pool's address");
      assertRefused(manager, CreateVmRequest.newBuilder().setGpu("0000:c1:00.0"), GrpcStatus.RESOURCE_EXHAUSTED,
          "GPU 0000:c1:00.0: held by VM " + named);
      assertRefused(manager, CreateVmRequest.newBuilder().setGpu("0000:02:00.0"), GrpcStatus.INVALID_ARGUMENT,
          "gpu: \"0000:02:00.0\" is not a GPU of this host's (0000:41:00.0, 0000:c1:00.0)");
      String none = create(manager, CreateVmRequest.newBuilder().setGpu("none")).response().getCvmId();
      assertEquals("", vm(manager, none).getGpu());
      String any = create(manager, CreateVmRequest.newBuilder()).response().getCvmId();
      assertEquals("0000:41:00.0", vm(manager, any).getGpu(), "the one left");
      for (String id : List.of(named, none, any)) {
        assertEquals(GrpcStatus.OK, manager.remove(id).status());
      }
    }
  }
}
