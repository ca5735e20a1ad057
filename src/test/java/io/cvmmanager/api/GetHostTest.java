package io.cvmmanager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import io.cvmmanager.api.cvm.GetHostRequest;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Gpu;
import io.cvmmanager.api.cvm.Host;
import io.cvmmanager.api.cvm.Resource;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.metrics.PrometheusText;
import io.cvmmanager.testing.FakeHostTree;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.reflection.v1.ServerReflectionRequest;
import io.vertx.grpc.reflection.v1.ServerReflectionResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GetHost, {@code /health}'s host and the {@code cvm_host_*} gauges over a fake host tree (8 GiB after the 2 GiB
 * reserve, 4 CPUs, 10 SEV-SNP contexts of which other guests use 3, no TDX) with the fake QEMU: each VM's memory
 * and vCPUs are allocated and taken from what is free, a GPU shows the VM that holds it.
 */
class GetHostTest {
  private static final String CVM = "cvm.v1.CvmService";
  private static final long GIB = 1L << 30;
  private static final long MEMORY_CAPACITY = 8 * GIB;

  @TempDir
  Path dir;

  private TestManager start(Map<String, String> extra) throws Exception {
    FakeHostTree host = new FakeHostTree(dir.resolve("host")).memTotal(MEMORY_CAPACITY + 2 * GIB)
        .cpusOnline("0-3")
        .miscCgroup("sev 509\nsev_es 10\n", "sev 0\nsev_es 3\n");
    Map<String, String> settings = new HashMap<>(Map.of(
        "MANAGER_HOST_ROOT", host.root().toString(),
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir).toString(),
        "MANAGER_MEMORY_OVERCOMMIT", "1",
        "MANAGER_CPU_OVERCOMMIT", "16",
        "MANAGER_QEMU_MEMORY_SIZE", "1024M",
        "MANAGER_QEMU_SMP_COUNT", "2",
        "MANAGER_MAX_VMS", "5"));
    settings.putAll(extra);
    return TestManager.start(dir.resolve("state"), TestPorts.range(3), settings);
  }

  @Test
  void eachVmsMemoryAndVcpusAreAllocatedAndNoLongerFree() throws Exception {
    try (TestManager manager = start(Map.of())) {
      assertEquals(List.of("memory 8192 0 8192", "vcpus 4 0 64", "sev-snp-contexts 10 0 7", "tdx-contexts - 0 -",
          "gpus 0 0 0", "vms 5 0 5"), amounts(getHost(manager)));

      String first = create(manager);
      String second = create(manager);
      Host host = getHost(manager);
      assertEquals(List.of("memory 8192 2048 6144", "vcpus 4 4 60", "sev-snp-contexts 10 0 7", "tdx-contexts - 0 -",
          "gpus 0 0 0", "vms 5 2 3"), amounts(host), "memory in MiB: 2 × 1024M; vCPUs 2 × 2 of 4 × 16");
      Resource disk = resource(host, "disk");
      assertTrue(disk.hasCapacity() && disk.hasFree(), "the state dir's free space: " + disk);
      assertEquals(0, disk.getAllocated(), "kernel boot: no disk of their own");
      assertEquals(List.of(), host.getGpusList());
      for (String id : List.of(first, second)) {
        Vm vm = manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
            Vm.newBuilder()).response();
        assertEquals("", vm.getGpu(), "no GPU mode: no GPU");
      }

      JsonObject health = manager.health();
      assertEquals("ok", health.getString("status"));
      assertEquals(new JsonObject().put("name", "memory").put("unit", "bytes").put("capacity", MEMORY_CAPACITY)
          .put("allocated", 2 * GIB).put("free", 6 * GIB), healthResource(health, "memory"));
      assertEquals(new JsonObject().put("name", "tdx-contexts").put("unit", "count").put("allocated", 0),
          healthResource(health, "tdx-contexts"), "unknown capacity and free are left out");

      PrometheusText metrics = manager.metrics();
      assertEquals((double) MEMORY_CAPACITY, metrics.value("cvm_host_capacity", Map.of("resource", "memory")));
      assertEquals((double) (2 * GIB), metrics.value("cvm_host_allocated", Map.of("resource", "memory")));
      assertEquals((double) (6 * GIB), metrics.value("cvm_host_free", Map.of("resource", "memory")));
      assertEquals(4.0, metrics.value("cvm_host_allocated", Map.of("resource", "vcpus")));
      assertEquals(60.0, metrics.value("cvm_host_free", Map.of("resource", "vcpus")));
      assertEquals(7.0, metrics.value("cvm_host_free", Map.of("resource", "sev-snp-contexts")));
      assertTrue(metrics.value("cvm_host_capacity", Map.of("resource", "tdx-contexts")).isNaN(),
          "not told: NaN");

      assertEquals(GrpcStatus.OK, manager.remove(first).status());
      assertEquals(List.of("memory 8192 1024 7168", "vcpus 4 2 62", "sev-snp-contexts 10 0 7",
          "tdx-contexts - 0 -", "gpus 0 0 0", "vms 5 1 4"), amounts(getHost(manager)), "the removed VM's back");
      assertEquals((double) (7 * GIB), manager.metrics().value("cvm_host_free", Map.of("resource", "memory")));
      assertEquals(GrpcStatus.OK, manager.remove(second).status());
      manager.assertNothingLeft();
    }
  }

  @Test
  void aGpuShowsTheVmThatHoldsIt() throws Exception {
    new FakeHostTree(dir.resolve("host")).vfioGpu("0000:01:00.0", "11").vfioGpu("0000:02:00.0", "12");
    try (TestManager manager = start(Map.of("MANAGER_QEMU_GPU_BDF", "auto"))) {
      String id = create(manager);
      Host host = getHost(manager);
      assertEquals(List.of(
          Gpu.newBuilder().setBdf("0000:01:00.0").setIommuGroup("11").setVmId(id).build(),
          Gpu.newBuilder().setBdf("0000:02:00.0").setIommuGroup("12").build()), host.getGpusList());
      assertEquals("gpus 2 1 1", amounts(host).get(4));
      Vm vm = manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
          Vm.newBuilder()).response();
      assertEquals("0000:01:00.0", vm.getGpu());
      assertEquals(new JsonObject().put("bdf", "0000:01:00.0").put("iommuGroup", "11").put("vmId", id),
          manager.health().getJsonObject("host").getJsonArray("gpus").getJsonObject(0));
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      assertEquals("", getHost(manager).getGpus(0).getVmId(), "released with its VM");
      manager.assertNothingLeft();
    }
  }

  @Test
  void reflectionDescribesGetHostAndItsRequestIsParsedAsEveryOther() throws Exception {
    try (TestManager manager = start(Map.of())) {
      UnaryCall.Result<Buffer> malformed = UnaryCall.raw(manager.newClient(), manager.server(), CVM, "GetHost",
          Buffer.buffer(new byte[] {0x0a, 0x7f})).await();
      assertEquals(GrpcStatus.INVALID_ARGUMENT, malformed.status(), malformed.message());

      ServerReflectionResponse reflection = manager.<ServerReflectionRequest, ServerReflectionResponse>call(
          "grpc.reflection.v1.ServerReflection", "ServerReflectionInfo",
          ServerReflectionRequest.newBuilder().setFileContainingSymbol(CVM + ".GetHost").build(),
          ServerReflectionResponse.newBuilder()).response();
      FileDescriptorProto file = FileDescriptorProto.parseFrom(
          reflection.getFileDescriptorResponse().getFileDescriptorProto(0));
      assertTrue(file.getServiceList().stream().flatMap(s -> s.getMethodList().stream())
          .anyMatch(m -> m.getName().equals("GetHost") && m.getOutputType().equals(".cvm.v1.Host")), file.toString());
    }
  }

  private static String create(TestManager manager) {
    return manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
  }

  private static Host getHost(TestManager manager) {
    return manager.<GetHostRequest, Host>call(CVM, "GetHost", GetHostRequest.getDefaultInstance(), Host.newBuilder())
        .response();
  }

  /** "name capacity allocated free" of each resource but disk (the real file system's), bytes in MiB, unset "-". */
  private static List<String> amounts(Host host) {
    return host.getResourcesList().stream().filter(r -> !r.getName().equals("disk")).map(r -> {
      long scale = r.getUnit().equals("bytes") ? 1L << 20 : 1;
      return r.getName() + " " + (r.hasCapacity() ? String.valueOf(r.getCapacity() / scale) : "-") + " "
          + r.getAllocated() / scale + " " + (r.hasFree() ? String.valueOf(r.getFree() / scale) : "-");
    }).toList();
  }

  private static Resource resource(Host host, String name) {
    return host.getResourcesList().stream().filter(r -> r.getName().equals(name)).findFirst().orElseThrow();
  }

  private static JsonObject healthResource(JsonObject health, String name) {
    return health.getJsonObject("host").getJsonArray("resources").stream().map(JsonObject.class::cast)
        .filter(r -> r.getString("name").equals(name)).findFirst().orElseThrow();
  }
}
