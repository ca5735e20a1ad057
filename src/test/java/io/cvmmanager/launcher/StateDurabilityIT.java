package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.SmallTmpfs;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * state.json on a full disk: a create whose RUNNING record cannot be written fails and is undone (a restart would
 * have removed the VM its client was told runs), and a running VM whose record cannot be written has it retried
 * until it lands, reported meanwhile. The state dir is a small tmpfs the test fills.
 */
class StateDurabilityIT {
  @TempDir
  Path work;
  private Path stateDir;
  private SmallTmpfs tmpfs;

  @BeforeEach
  void mountSmallTmpfs() throws Exception {
    stateDir = work.resolve("state");
    tmpfs = SmallTmpfs.mount(stateDir, "2m");
  }

  @AfterEach
  void unmount() throws Exception {
    if (tmpfs != null) {
      tmpfs.unmount();
    }
  }

  /** A file taking every byte left in the state dir. */
  private Path fillStateDir() throws Exception {
    long free = Files.getFileStore(stateDir).getUsableSpace();
    Path filler = Files.write(stateDir.resolve("filler"), new byte[Math.toIntExact(free)]);
    assertEquals(0, Files.getFileStore(stateDir).getUsableSpace(), "room left");
    return filler;
  }

  /**
   * Takes what came free since the state dir was filled: a file deleted while still open (a stopped manager's
   * console follower, say) gives its space back only once it is closed, which may be later under load.
   */
  private void keepFull(Path filler) throws Exception {
    long free = Files.getFileStore(stateDir).getUsableSpace();
    if (free > 0) {
      Files.write(filler, new byte[Math.toIntExact(free)], java.nio.file.StandardOpenOption.APPEND);
    }
  }

  @Test
  void aCreateWhoseRunningRecordCannotBeWrittenFailsAndIsUndone() throws Exception {
    Map<String, String> settings = new HashMap<>(Map.of("MANAGER_QEMU_START_PAUSED", "true",
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(work, "hold=qmp_capabilities").toString()));
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2), settings)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      // Held at the QMP handshake: the STARTING record and the one with QEMU's PID are on disk; RUNNING is next.
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "qmp_capabilities");
      Path filler = fillStateDir();
      FakeQemu.release(vmDir, "qmp_capabilities");
      UnaryCall.Result<CreateRes> result = create.await();
      assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, result.status(), result.message());
      assertTrue(result.message().contains("state.json") && result.message().contains(stateDir.toString()),
          result.message());
      await().atMost(Duration.ofSeconds(20)).untilAsserted(manager::assertNothingLeft);
      Files.delete(filler);
    }
  }

  /**
   * A manager adopts a running (paused, real QEMU) VM on a full state dir: its record's rewrite fails, /health says
   * degraded and {@code cvm_vms_unsaved} is 1 until room comes back, when the retry lands.
   */
  @Test
  void aRunningVmsFailedWriteIsRetriedUntilItLandsAndReportedMeanwhile() throws Exception {
    Map<String, String> settings = Map.of("MANAGER_QEMU_START_PAUSED", "true", "MANAGER_QEMU_MEMORY_SIZE", "128M",
        "MANAGER_STOP_VMS_ON_EXIT", "false");
    PortRange ports = TestPorts.range(2);
    TestManager first = TestManager.start(stateDir, ports, settings);
    String id;
    try {
      id = first.create(CreateReq.getDefaultInstance()).response().getCvmId();
    } finally {
      first.stopLeavingVms();
    }
    Path stateFile = stateDir.resolve("vms").resolve(id).resolve("state.json");
    Path filler = fillStateDir();
    try (TestManager second = TestManager.start(stateDir, ports, Map.of("MANAGER_QEMU_START_PAUSED", "true",
        "MANAGER_QEMU_MEMORY_SIZE", "128M"))) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        keepFull(filler);
        JsonObject health = second.health();
        assertEquals("degraded", health.getString("status"), health.encode());
        assertEquals(1.0, second.metrics().value("cvm_vms_unsaved"));
      });
      FileTime before = Files.getLastModifiedTime(stateFile);
      Files.delete(filler);
      // The retry waits 1 s, then twice as long each time: room that comes back a few failures in is seen later.
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        JsonObject health = second.health();
        assertEquals("ok", health.getString("status"), health.encode());
        assertEquals(0.0, second.metrics().value("cvm_vms_unsaved"));
      });
      assertTrue(Files.getLastModifiedTime(stateFile).compareTo(before) > 0, "state.json rewritten");
      assertTrue(second.metrics().value("cvm_state_write_failures_total") >= 1.0);
      assertEquals(GrpcStatus.OK, second.remove(id).status());
    }
  }
}
