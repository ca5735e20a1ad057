package io.cvmmanager.resources;

import static io.cvmmanager.resources.Admissions.assertRefused;
import static io.cvmmanager.resources.Admissions.created;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.FakeHostTree;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission by memory with real paused QEMU (TCG) over gRPC, on a fake host tree whose memory fits a given number
 * of VMs: what fits is admitted, the next is RESOURCE_EXHAUSTED naming memory with nothing made for it, a removal
 * lets the next in, and concurrent creates never over-admit. (A paused QEMU is removed at once, without the ACPI
 * grace: that a STOPPING VM still holds its memory is shown with the fake QEMU, in {@link AdmissionTest}.)
 */
class MemoryAdmissionIT {
  private static final long MIB = 1L << 20;

  @TempDir
  Path dir;

  /** A manager on a host with {@code memory} bytes and 2 CPUs, nothing reserved, no overcommit of memory. */
  private TestManager manager(long memory, String vmMemory, int ports) throws Exception {
    FakeHostTree host = new FakeHostTree(dir.resolve("host")).memTotal(memory).cpusOnline("0-1");
    Map<String, String> settings = new HashMap<>();
    settings.put("MANAGER_HOST_ROOT", host.root().toString());
    settings.put("MANAGER_HOST_RESERVED_MEMORY", "0");
    settings.put("MANAGER_MEMORY_OVERCOMMIT", "1");
    settings.put("MANAGER_CPU_OVERCOMMIT", "1000");
    settings.put("MANAGER_QEMU_MEMORY_SIZE", vmMemory);
    settings.put("MANAGER_QEMU_START_PAUSED", "true");
    settings.put("MANAGER_MAX_VMS", "0");
    return TestManager.start(dir.resolve("state"), TestPorts.range(ports), settings);
  }

  @Test
  void threeDevVmsFitTheFourthIsRefusedNamingMemoryAndARemovalLetsTheNextIn() throws Exception {
    try (TestManager manager = manager(3584 * MIB, "1024M", 6)) {
      List<String> ids = new ArrayList<>(List.of(created(manager), created(manager), created(manager)));
      assertRefused(manager, "memory: 1024 MiB asked, 512 MiB free of 3584 MiB");
      assertEquals(3, manager.qemuProcesses().size());

      assertEquals(GrpcStatus.OK, manager.remove(ids.remove(0)).status());
      ids.add(created(manager));
      assertEquals(3, manager.qemuProcesses().size());
      for (String id : ids) {
        assertEquals(GrpcStatus.OK, manager.remove(id).status());
      }
    }
  }

  @Test
  void fiftyConcurrentCreatesAgainstRoomForTenAdmitExactlyTen() throws Exception {
    try (TestManager manager = manager(10 * 128 * MIB + 100 * MIB, "128M", 12)) {
      List<Future<UnaryCall.Result<CreateRes>>> creates = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        creates.add(manager.createAsync(CreateReq.getDefaultInstance()));
      }
      Future.join(creates).toCompletionStage().toCompletableFuture().get();
      List<String> ids = creates.stream().map(Future::result).filter(r -> r.status() == GrpcStatus.OK)
          .map(r -> r.response().getCvmId()).toList();
      List<UnaryCall.Result<CreateRes>> refused = creates.stream().map(Future::result)
          .filter(r -> r.status() != GrpcStatus.OK).toList();
      assertEquals(10, ids.size(), "admitted: " + ids.size());
      assertEquals(40, refused.size());
      refused.forEach(r -> {
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, r.status(), r.message());
        assertTrue(r.message().startsWith("memory: 128 MiB asked, 100 MiB free of 1380 MiB"), r.message());
      });
      assertEquals(10, manager.qemuProcesses().size());
      assertEquals(10, manager.vmDirs().size());
      for (String id : ids) {
        assertEquals(GrpcStatus.OK, manager.remove(id).status());
      }
    }
  }
}
