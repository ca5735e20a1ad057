package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A manager stopped with MANAGER_STOP_VMS_ON_EXIT=false leaves its VMs running; the next one on the same state dir
 * takes them back, reports what ended meanwhile, and never touches a process that is not its QEMU. Real QEMU,
 * paused (no guest needed); both managers in this JVM, one after the other.
 */
class VmAdoptionIT {
  private static final String CVM = "cvm.v1.CvmService";
  private static final PortRange PORTS = TestPorts.range(10);
  private static final Map<String, String> LEAVE_VMS = Map.of("MANAGER_QEMU_START_PAUSED", "true",
      "MANAGER_QEMU_MEMORY_SIZE", "128M", "MANAGER_STOP_VMS_ON_EXIT", "false");
  private static final Map<String, String> PAUSED = Map.of("MANAGER_QEMU_START_PAUSED", "true",
      "MANAGER_QEMU_MEMORY_SIZE", "128M");

  @TempDir
  Path stateDir;

  private static List<Vm> list(TestManager manager) {
    return manager.<ListVmsRequest, ListVmsResponse>call(CVM, "ListVms", ListVmsRequest.getDefaultInstance(),
        ListVmsResponse.newBuilder()).response().getVmsList();
  }

  private static List<Event> history(TestManager manager) {
    List<Event> events = Collections.synchronizedList(new ArrayList<>());
    manager.stream(CVM, "WatchEvents", WatchEventsRequest.newBuilder().setHistory(true).build(), Event.newBuilder(),
        (Event e) -> events.add(e)).await();
    return events;
  }

  private static Optional<Event> eventOf(List<Event> events, String id, String type) {
    synchronized (events) {
      return events.stream().filter(e -> e.getId().equals(id) && e.getType().equals(type)).findFirst();
    }
  }

  private String create(TestManager manager, String ttl) {
    var result = manager.create(CreateReq.newBuilder().setTtl(ttl).build());
    assertEquals(GrpcStatus.OK, result.status(), result.message());
    return result.response().getCvmId();
  }

  /** Two paused VMs, then the manager stopped with its VMs left running. */
  private List<String> createTwoAndLeave(TestManager manager) throws Exception {
    try {
      return List.of(create(manager, ""), create(manager, ""));
    } finally {
      manager.stopLeavingVms();
    }
  }

  private JsonObject stateFile(String id) throws Exception {
    return new JsonObject(Files.readString(stateDir.resolve("vms").resolve(id).resolve("state.json")));
  }

  @Test
  void aRestartedManagerAdoptsRunningVmsWithTheirPortsPidsAndTtls() throws Exception {
    TestManager first = TestManager.start(stateDir, PORTS, LEAVE_VMS);
    List<Vm> before;
    try {
      create(first, "");
      create(first, "");
      create(first, "1h");
      before = list(first);
      for (Vm vm : before) {
        JsonObject state = stateFile(vm.getId());
        assertEquals("RUNNING", state.getString("state"));
        assertEquals(vm.getPid(), state.getLong("pid"));
        assertTrue(state.getLong("pidStartTime") > 0, state.encode());
        assertEquals(vm.getPort(), state.getInteger("port"));
        assertTrue(state.getJsonArray("command").contains("cvm-" + vm.getId()), state.encode());
        assertEquals("max", state.getJsonObject("config").getString("cpu"));
      }
    } finally {
      first.stopLeavingVms();
    }
    assertEquals(3, first.qemuProcesses().size(), "the QEMUs outlive the manager");

    try (TestManager second = TestManager.start(stateDir, PORTS, PAUSED)) {
      List<Vm> after = list(second);
      assertEquals(before.stream().map(Vm::getId).sorted().toList(), after.stream().map(Vm::getId).sorted().toList());
      for (Vm vm : after) {
        Vm old = before.stream().filter(b -> b.getId().equals(vm.getId())).findFirst().orElseThrow();
        assertEquals(io.cvmmanager.api.cvm.VmState.RUNNING, vm.getState());
        assertEquals(old.getPid(), vm.getPid());
        assertEquals(old.getPort(), vm.getPort());
        assertEquals(old.getTtlDeadline(), vm.getTtlDeadline());
        assertEquals(old.getCreated(), vm.getCreated());
        assertTrue(vm.getPaused(), "query-status says paused");
      }
      List<Event> events = history(second);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (Vm vm : after) {
          assertTrue(eventOf(events, vm.getId(), "adopted").isPresent(), "adopted event of " + vm.getId());
        }
      });
      // A new VM does not get an adopted VM's port.
      String fresh = create(second, "");
      int freshPort = list(second).stream().filter(v -> v.getId().equals(fresh)).findFirst().orElseThrow()
          .getPort();
      assertFalse(before.stream().anyMatch(v -> v.getPort() == freshPort), "port " + freshPort + " handed out twice");
      for (Vm vm : list(second)) {
        assertEquals(GrpcStatus.OK, second.remove(vm.getId()).status());
      }
    }
  }

  @Test
  void deadVmsAreReportedCorruptRecordsRecoveredAndForeignPidsNeverTouched() throws Exception {
    TestManager first = TestManager.start(stateDir, PORTS, LEAVE_VMS);
    List<String> two = createTwoAndLeave(first);
    String killed = two.get(0);
    String corrupt = two.get(1);
    Path vms = stateDir.resolve("vms");
    long killedPid = stateFile(killed).getLong("pid");
    ProcessHandle.of(killedPid).orElseThrow().destroyForcibly();
    await().atMost(Duration.ofSeconds(10)).until(() -> first.qemuProcesses().size() == 1);
    // Torn in half, as a disk fault might leave it.
    String full = Files.readString(vms.resolve(corrupt).resolve("state.json"));
    Files.writeString(vms.resolve(corrupt).resolve("state.json"), full.substring(0, full.length() / 2));
    // A record whose PID is now another program's.
    Process stranger = new ProcessBuilder("sleep", "120").start();
    String reused = UUID.randomUUID().toString();
    JsonObject record = stateFile(killed).put("id", reused).put("pid", stranger.pid());
    Files.createDirectories(vms.resolve(reused));
    Files.writeString(vms.resolve(reused).resolve("state.json"), record.encode());
    // A VM directory without a record and no QEMU, and something that is not a VM directory at all.
    String orphan = UUID.randomUUID().toString();
    Files.createDirectories(vms.resolve(orphan).resolve("certs"));
    Path notOurs = Files.createDirectories(vms.resolve("operator-notes"));

    try (TestManager second = TestManager.start(stateDir, PORTS, PAUSED)) {
      List<Event> events = history(second);
      await().atMost(Duration.ofSeconds(10)).until(() -> eventOf(events, orphan, "state").isPresent()
          && eventOf(events, corrupt, "adopted").isPresent() && eventOf(events, killed, "state").isPresent()
          && eventOf(events, reused, "state").isPresent());
      assertEquals(List.of(corrupt), list(second).stream().map(Vm::getId).toList());
      Event adopted = eventOf(events, corrupt, "adopted").orElseThrow();
      assertTrue(adopted.getReason().contains("state.json unreadable"), adopted.getReason());
      Event dead = eventOf(events, killed, "state").orElseThrow();
      assertEquals("RUNNING", dead.getFrom());
      assertEquals("FAILED", dead.getTo());
      assertTrue(dead.getReason().contains("ended while the manager was down"), dead.getReason());
      Event foreign = eventOf(events, reused, "state").orElseThrow();
      assertTrue(foreign.getReason().contains("belongs to another process"), foreign.getReason());
      assertTrue(eventOf(events, orphan, "state").orElseThrow().getReason().contains("state.json unreadable"));
      assertTrue(stranger.isAlive(), "a process that is not our QEMU is never signalled");
      assertTrue(Files.isDirectory(notOurs), "only UUID-named directories are touched");
      assertEquals(List.of(corrupt, "operator-notes").stream().sorted().toList(),
          second.vmDirs().stream().sorted().toList());

      var metrics = second.metrics();
      assertEquals(1.0, metrics.value("cvm_adoptions_total", Map.of("outcome", "adopted")));
      assertEquals(3.0, metrics.value("cvm_adoptions_total", Map.of("outcome", "ended")));

      assertEquals(GrpcStatus.OK, second.remove(corrupt).status());
      Files.delete(notOurs);
    } finally {
      stranger.destroyForcibly();
      stranger.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aVmIsRecordedRunningBeforeItsCreateReplies() throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      // Ten at once, each record read the moment its reply arrives: a manager killed right after a reply must
      // find that VM RUNNING, not a create cut short (which it would remove).
      List<io.vertx.core.Future<String>> seen = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        seen.add(manager.createAsync(CreateReq.getDefaultInstance()).map(result -> {
          String id = result.response().getCvmId();
          try {
            return id + " " + stateFile(id).getString("state");
          } catch (Exception e) {
            return id + " " + e;
          }
        }));
      }
      io.vertx.core.Future.all(seen).await();
      for (io.vertx.core.Future<String> state : seen) {
        assertTrue(state.result().endsWith(" RUNNING"), state.result());
        assertEquals(GrpcStatus.OK, manager.remove(state.result().split(" ")[0]).status());
      }
    }
  }

  @Test
  void aVmUnderSudoIsAdoptedByItsRecordAndFoundByItsPidFileWhenSudoIsGone() throws Exception {
    Map<String, String> sudo = new java.util.HashMap<>(LEAVE_VMS);
    sudo.put("MANAGER_QEMU_USE_SUDO", "true");
    TestManager first = TestManager.start(stateDir, PORTS, sudo);
    List<String> two = createTwoAndLeave(first);
    String kept = two.get(0);
    String orphaned = two.get(1);
    JsonObject state = stateFile(orphaned);
    assertEquals("sudo", state.getJsonArray("command").getString(0));
    long sudoPid = state.getLong("pid");
    long qemuPid = Long.parseLong(Files.readString(stateDir.resolve("vms").resolve(orphaned).resolve("qemu.pid"))
        .trim());
    assertTrue(sudoPid != qemuPid, "the recorded process is sudo, qemu.pid names QEMU");
    // sudo dies (SIGKILL cannot be passed on): its QEMU runs on, known only by its pid file.
    ProcessHandle.of(sudoPid).orElseThrow().destroyForcibly();
    // A zombie (QEMU still holds sudo's output pipes, so no one notices to reap it) or gone.
    await().atMost(Duration.ofSeconds(10)).until(() -> isZombie(sudoPid));
    assertTrue(ProcessHandle.of(qemuPid).map(ProcessHandle::isAlive).orElse(false));

    // Today's configuration says no sudo; the VMs are still handled as launched.
    try (TestManager second = TestManager.start(stateDir, PORTS, PAUSED)) {
      List<Event> events = history(second);
      await().atMost(Duration.ofSeconds(20)).until(() -> eventOf(events, kept, "adopted").isPresent()
          && eventOf(events, orphaned, "adopted").isPresent()
          && events.stream().anyMatch(e -> e.getId().equals(orphaned) && e.getTo().equals("STOPPED")));
      assertTrue(events.stream().anyMatch(e -> e.getId().equals(orphaned) && e.getReason().contains(
          "its recorded process (PID " + sudoPid + ") is gone but its QEMU runs")), events.toString());
      await().atMost(Duration.ofSeconds(10)).until(() -> !ProcessHandle.of(qemuPid).map(ProcessHandle::isAlive)
          .orElse(false) || isZombie(qemuPid));
      assertEquals(List.of(kept), list(second).stream().map(Vm::getId).toList());
      assertEquals(GrpcStatus.OK, second.remove(kept).status());
    }
  }

  private static boolean isZombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (java.io.IOException e) {
      return true;
    }
  }

  @Test
  void aStopWhileVmsAreBeingCreatedUndoesTheirCreates() throws Exception {
    TestManager manager = TestManager.start(stateDir, PORTS, LEAVE_VMS);
    try {
      for (int i = 0; i < 4; i++) {
        manager.createAsync(CreateReq.getDefaultInstance());
      }
      // At least one create under way (its directory made), and the manager stopped under it.
      await().atMost(Duration.ofSeconds(10)).until(() -> !manager.vmDirs().isEmpty());
    } finally {
      manager.stopLeavingVms();
    }
    // Whatever each create had reached, the stop either cut it short and undid it, or (RUNNING already) left the
    // VM to the next manager; no QEMU without a record, no record without a QEMU.
    try (TestManager next = TestManager.start(stateDir, PORTS, PAUSED)) {
      List<Event> events = history(next);
      List<Vm> adopted = list(next);
      assertEquals(adopted.size(), next.qemuProcesses().size(), "every QEMU left is an adopted VM");
      await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().filter(e -> e.getType().equals("adopted"))
          .count() == adopted.size());
      assertTrue(events.stream().noneMatch(e -> e.getType().equals("state")), "nothing ended or was cut short: "
          + events);
      for (Vm vm : adopted) {
        assertEquals(GrpcStatus.OK, next.remove(vm.getId()).status());
      }
    }
  }

  @Test
  void aStopWithStopVmsOnExitLeavesNothingRunning() throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      create(manager, "");
      create(manager, "");
    }
  }
}
