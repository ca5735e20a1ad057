package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a QEMU's end is noticed leads to the one exit path (FAILED with how it ended, everything released):
 * the end of its QMP connection with its exit (a spawned QEMU), and, for an adopted QEMU without a QMP connection,
 * /proc polling. The fake QEMU plays QEMU.
 */
class ExitPathsTest {
  private static final String CVM = "cvm.v1.CvmService";

  @TempDir
  Path stateDir;

  private static List<Event> watch(TestManager manager) {
    List<Event> events = Collections.synchronizedList(new ArrayList<>());
    manager.stream(CVM, "WatchEvents", WatchEventsRequest.newBuilder().setHistory(true).build(), Event.newBuilder(),
        (Event e) -> events.add(e)).await();
    return events;
  }

  private static Optional<Event> failed(List<Event> events, String id) {
    synchronized (events) {
      return events.stream().filter(e -> e.getId().equals(id) && e.getType().equals("state")
          && e.getTo().equals("FAILED")).findFirst();
    }
  }

  @Test
  void aSpawnedQemuThatDiesIsFailedWithItsExitCodeAndReleased() throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(1), Map.of(
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir, "die-after=1500").toString()))) {
      List<Event> events = watch(manager);
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      Event end = await().atMost(Duration.ofSeconds(10)).until(() -> failed(events, id), Optional::isPresent).get();
      assertTrue(end.getReason().matches(".*exit code (or signal )?1\\b.*"), end.getReason());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(manager::assertNothingLeft);
    }
  }

  /**
   * The second manager adopts a QEMU whose QMP does not answer (the fake holds at query-status): adopted without
   * QMP, its end is seen by /proc polling alone.
   */
  @Test
  void anAdoptedQemuWithoutQmpIsSeenEndingByProcPolling() throws Exception {
    PortRange ports = TestPorts.range(1);
    Map<String, String> settings = Map.of("MANAGER_QEMU_BIN_PATH",
        FakeQemu.binary(stateDir, "hold=query-status").toString(), "MANAGER_STOP_VMS_ON_EXIT", "false");
    TestManager first = TestManager.start(stateDir, ports, settings);
    String id;
    long pid;
    try {
      id = first.create(CreateReq.getDefaultInstance()).response().getCvmId();
      pid = first.qemuProcesses().get(0);
    } finally {
      first.stopLeavingVms();
    }
    try (TestManager second = TestManager.start(stateDir, ports, settings)) {
      List<Event> events = watch(second);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        synchronized (events) {
          return events.stream().anyMatch(e -> e.getId().equals(id) && e.getType().equals("adopted"));
        }
      });
      new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).start().waitFor();
      Event end = await().atMost(Duration.ofSeconds(10)).until(() -> failed(events, id), Optional::isPresent).get();
      assertTrue(end.getReason().contains("QEMU ended"), end.getReason());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(second::assertNothingLeft);
    }
  }
}
