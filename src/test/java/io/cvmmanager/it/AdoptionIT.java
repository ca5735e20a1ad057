package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.JarManagers;
import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged manager killed with SIGKILL while it runs 20 (paused) VMs; while it is down 3 QEMUs are killed and
 * one VM's TTL runs out and one VM's state.json is torn; the restarted manager adopts the 16 that run (the torn one
 * recovered from its QEMU's command line), reports the 3 dead, removes the expired one, and every adopted VM is
 * removable. Then a SIGTERM (MANAGER_STOP_VMS_ON_EXIT=false, the default) leaves a VM to a
 * third manager. At the end: no QEMU, no file, no port left.
 */
class AdoptionIT {
  private static final PortRange PORTS = TestPorts.range(30);
  private static final String MANAGER = "manager.ManagerService";
  private static final String CVM = "cvm.v1.CvmService";

  @TempDir
  Path dir;
  private JarManagers managers;
  private Path stateDir;

  @BeforeEach
  void setUp() {
    managers = new JarManagers(dir, PORTS.first(), PORTS.last());
    stateDir = managers.stateDir();
  }

  @AfterEach
  void tearDown() throws Exception {
    managers.close();
  }

  @Test
  void aKilledManagerIsRestartedAndAdoptsWhatRunsReportsWhatDiedAndLeavesNothing() throws Exception {
    ManagerProcess first = start();
    List<Future<UnaryCall.Result<CreateRes>>> creates = new ArrayList<>();
    for (int i = 0; i < 19; i++) {
      creates.add(call(MANAGER, "CreateVm", CreateReq.getDefaultInstance(), CreateRes.newBuilder()));
    }
    Future.all(creates).await();
    List<String> ids = new ArrayList<>();
    for (var create : creates) {
      assertEquals(GrpcStatus.OK, create.result().status(), create.result().message());
      ids.add(create.result().response().getCvmId());
    }
    String expiring = this.<CreateReq, CreateRes>call(MANAGER, "CreateVm", CreateReq.newBuilder().setTtl("6s")
        .build(), CreateRes.newBuilder()).await().response().getCvmId();
    Instant deadline = Instant.parse(state(expiring).getString("ttlDeadline"));

    first.kill();
    assertEquals(20, qemuProcesses().size(), "every QEMU outlives a killed manager");
    List<String> killed = ids.subList(0, 3);
    for (String id : killed) {
      ProcessHandle.of(state(id).getLong("pid")).orElseThrow().destroyForcibly();
    }
    List<String> survivors = ids.subList(3, ids.size());
    // One record torn in half, as a disk fault might leave it: reported, and the VM recovered from its QEMU.
    String torn = survivors.get(1);
    Path tornFile = stateDir.resolve("vms").resolve(torn).resolve("state.json");
    String whole = Files.readString(tornFile);
    Files.writeString(tornFile, whole.substring(0, whole.length() / 2));
    await().atMost(Duration.ofSeconds(10)).until(() -> qemuProcesses().size() == 17);
    await().atMost(Duration.ofSeconds(30)).until(() -> Instant.now().isAfter(deadline));

    ManagerProcess second = start();
    List<Event> events = history();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      for (String id : survivors) {
        assertTrue(has(events, id, "adopted", ""), "adopted: " + id);
      }
      for (String id : killed) {
        assertTrue(has(events, id, "state", "FAILED"), "reported dead: " + id);
      }
      assertTrue(has(events, expiring, "adopted", "") && has(events, expiring, "state", "STOPPED"),
          "expired while down, removed at adoption");
    });
    assertTrue(find(events, torn, "adopted").getReason().contains("state.json unreadable"),
        find(events, torn, "adopted").getReason());
    for (String id : killed) {
      Event dead = find(events, id, "state");
      assertTrue(dead.getReason().contains("ended while the manager was down"), dead.getReason());
    }
    assertTrue(find(events, expiring, "state").getReason().contains("TTL expired"), events.toString());
    assertTrue(second.output().contains("adoption: 20 VM directories"), second.output());

    List<Vm> listed = list();
    assertEquals(survivors.stream().sorted().toList(), listed.stream().map(Vm::getId).sorted().toList());
    assertTrue(listed.stream().allMatch(vm -> vm.getState() == VmState.RUNNING && vm.getPaused()), listed.toString());
    await().atMost(Duration.ofSeconds(30)).until(() -> vmDirs().size() == 16);

    // An adopted QEMU is not the manager's child: its death is seen by QMP EOF and /proc (here a zombie whose
    // reaper, PID 1 of this machine, never comes).
    String diesLater = survivors.get(0);
    ProcessHandle.of(state(diesLater).getLong("pid")).orElseThrow().destroyForcibly();
    await().atMost(Duration.ofSeconds(10)).until(() -> has(events, diesLater, "state", "FAILED")
        && !Files.exists(stateDir.resolve("vms").resolve(diesLater)));
    assertTrue(find(events, diesLater, "state").getReason().contains("QEMU"), find(events, diesLater, "state")
        .getReason());

    // All but one removed through RemoveVm; the last is left running across a SIGTERM, the default stop.
    String kept = survivors.get(survivors.size() - 1);
    for (String id : survivors.subList(1, survivors.size() - 1)) {
      assertEquals(GrpcStatus.OK, remove(id).status(), id);
    }
    second.terminate();
    // The JVM's status after SIGTERM is 143 (128 + 15); the unit file counts it as success.
    assertEquals(143, second.awaitExit(60), second.output());
    assertTrue(second.output().contains("vm " + kept + ": left running for the next manager"), second.output());
    assertEquals(1, qemuProcesses().size(), "a SIGTERM leaves VMs running by default");

    ManagerProcess third = start();
    assertEquals(List.of(kept), list().stream().map(Vm::getId).toList());
    assertEquals(GrpcStatus.OK, remove(kept).status());
    third.terminate();
    assertEquals(143, third.awaitExit(60), third.output());

    managers.assertNothingLeft();
  }

  private ManagerProcess start() throws Exception {
    return managers.start();
  }

  private <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
      Future<UnaryCall.Result<Resp>> call(String service, String method, Req request,
          com.google.protobuf.Message.Builder response) {
    return managers.call(service, method, request, response);
  }

  private UnaryCall.Result<Empty> remove(String id) {
    return managers.remove(id);
  }

  private List<Vm> list() {
    return managers.list();
  }

  private List<Event> history() {
    List<Event> events = Collections.synchronizedList(new ArrayList<>());
    UnaryCall.stream(managers.client(), managers.server(), CVM, "WatchEvents", WatchEventsRequest.newBuilder().setHistory(true).build(),
        Event.newBuilder(), (Event e) -> events.add(e)).await();
    return events;
  }

  private static boolean has(List<Event> events, String id, String type, String to) {
    synchronized (events) {
      return events.stream().anyMatch(e -> e.getId().equals(id) && e.getType().equals(type)
          && (to.isEmpty() || e.getTo().equals(to)));
    }
  }

  /** The last event of a type for a VM. */
  private static Event find(List<Event> events, String id, String type) {
    synchronized (events) {
      return events.stream().filter(e -> e.getId().equals(id) && e.getType().equals(type))
          .reduce((a, b) -> b).orElseThrow();
    }
  }

  private JsonObject state(String id) throws IOException {
    return managers.state(id);
  }

  private List<String> vmDirs() throws IOException {
    return managers.vmDirs();
  }

  /** Live QEMUs of this test. */
  private List<Long> qemuProcesses() {
    return managers.qemuProcesses();
  }
}
