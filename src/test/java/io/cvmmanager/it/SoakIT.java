package io.cvmmanager.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.JarManagers;
import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.testing.Soak;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI soak (bench/ runs the long one): 300 create → remove cycles of paused VMs, real QEMU, 8 clients at a
 * time, against the packaged jar. After a warm-up of 50 cycles (JIT, Vert.x's worker threads, first-use classes)
 * the manager's open fds, threads and heap after a full GC are its steady state; 250 cycles later they must be
 * back there: a leak of a file, socket, pipe, thread or object per VM shows as growth proportional to the VMs.
 */
class SoakIT {
  private static final PortRange PORTS = TestPorts.range(50);
  private static final int CLIENTS = 8;
  private static final int WARM_UP = 50;
  private static final int CYCLES = 300;
  private static final int ROUND = 50;
  private static final int FD_AND_THREAD_SLACK = 5;
  private static final double HEAP_SLACK = 0.10;

  @TempDir
  Path dir;
  private JarManagers managers;

  @BeforeEach
  void setUp() {
    managers = new JarManagers(dir, PORTS.first(), PORTS.last());
    managers.settings().put("MANAGER_QEMU_MEMORY_SIZE", "64M");
  }

  @AfterEach
  void tearDown() throws Exception {
    managers.close();
  }

  @Test
  void createRemoveCyclesLeaveFdsThreadsAndHeapWhereWarmUpLeftThem() throws Exception {
    ManagerProcess manager = managers.start();
    Soak soak = new Soak(manager.pid(), CLIENTS, this::createThenRemove);
    soak.run(WARM_UP);
    List<Soak.Sample> samples = new ArrayList<>(List.of(soak.sample()));
    for (int done = WARM_UP; done < CYCLES; done += ROUND) {
      soak.run(ROUND);
      samples.add(soak.sample());
    }
    String table = Soak.Sample.header() + "\n"
        + samples.stream().map(Soak.Sample::row).collect(Collectors.joining("\n"));
    System.out.println(table);

    assertEquals(List.of(), soak.failures());
    Soak.Sample warm = samples.get(0);
    // Vert.x's worker and internal blocking pools grow on demand up to their caps, which 8 clients under load may
    // take past the warm-up to reach (CI once saw 76 threads at 50 cycles, then 81-82 from 100 on): threads are
    // held to the round after. A thread per VM would still show as ~200 more over the 200 cycles after it.
    Soak.Sample pooled = samples.get(1);
    Soak.Sample last = samples.get(samples.size() - 1);
    assertAll(table,
        () -> assertTrue(Math.abs(last.fds() - warm.fds()) <= FD_AND_THREAD_SLACK, "open fds"),
        () -> assertTrue(Math.abs(last.threads() - pooled.threads()) <= FD_AND_THREAD_SLACK, "threads"),
        () -> assertTrue(Math.abs(last.heapKib() - warm.heapKib()) <= warm.heapKib() * HEAP_SLACK, "heap after GC"));
    managers.assertNothingLeft();
  }

  private Future<?> createThenRemove() {
    return managers.<CreateReq, CreateRes>call(JarManagers.MANAGER, "CreateVm", CreateReq.getDefaultInstance(),
            CreateRes.newBuilder())
        .compose(create -> ok("CreateVm", create))
        .compose(create -> managers.<RemoveReq, Empty>call(JarManagers.MANAGER, "RemoveVm",
            RemoveReq.newBuilder().setCvmId(create.response().getCvmId()).build(), Empty.newBuilder()))
        .compose(remove -> ok("RemoveVm", remove));
  }

  private static <T> Future<UnaryCall.Result<T>> ok(String method, UnaryCall.Result<T> result) {
    return result.status() == GrpcStatus.OK ? Future.succeededFuture(result)
        : Future.failedFuture(method + ": " + result.status() + " " + result.message());
  }
}
