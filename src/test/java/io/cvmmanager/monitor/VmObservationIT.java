package io.cvmmanager.monitor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.LogLine;
import io.cvmmanager.api.cvm.StreamLogsRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.testing.AgentProbe;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.vm.VmEvent;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Events, logs and death detection, through the event bus and our own gRPC service over a real socket. */
class VmObservationIT {
  private static final String CVM = "cvm.v1.CvmService";

  private static List<Event> watch(TestManager manager, WatchEventsRequest request) {
    List<Event> events = Collections.synchronizedList(new ArrayList<>());
    manager.stream(CVM, "WatchEvents", request, Event.newBuilder(), (Event e) -> events.add(e)).await();
    return events;
  }

  private static List<String> states(List<Event> events, String id) {
    synchronized (events) {
      return events.stream().filter(e -> e.getId().equals(id) && e.getType().equals("state"))
          .map(Event::getTo).toList();
    }
  }

  @Test
  void watchEventsSeesAWholeCreateAndRemoveInOrder(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(10),
        Map.of("MANAGER_QEMU_START_PAUSED", "true"))) {
      List<Event> events = watch(manager, WatchEventsRequest.getDefaultInstance());
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();

      Vm vm = manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
          Vm.newBuilder()).response();
      assertEquals(VmState.RUNNING, vm.getState());
      assertTrue(vm.getPaused() && vm.getPid() > 0 && vm.getBootMode().equals("kernel"), vm.toString());
      ListVmsResponse list = manager.<ListVmsRequest, ListVmsResponse>call(CVM, "ListVms",
          ListVmsRequest.getDefaultInstance(), ListVmsResponse.newBuilder()).response();
      assertEquals(List.of(id), list.getVmsList().stream().map(Vm::getId).toList());
      List<Event> replayed = watch(manager, WatchEventsRequest.newBuilder().setId(id).setReplay(true).build());

      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(
          List.of("CREATING", "STARTING", "RUNNING", "STOPPING", "STOPPED"), states(events, id)));
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(
          List.of("RUNNING", "STOPPING", "STOPPED"), states(replayed, id)));
      assertEquals(GrpcStatus.NOT_FOUND, manager.<GetVmRequest, Vm>call(CVM, "GetVm",
          GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder()).status());
    }
  }

  @Test
  void aKilledQemuIsFailedWithItsSignalAndReleasesEverything(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(10),
        Map.of("MANAGER_QEMU_START_PAUSED", "true"))) {
      List<Event> events = watch(manager, WatchEventsRequest.getDefaultInstance());
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      long pid = Long.parseLong(Files.readString(manager.vmDir(id).resolve("qemu.pid")).trim());
      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertEquals(List.of("CREATING", "STARTING", "RUNNING", "FAILED"), states(events, id)));
      Event failed;
      synchronized (events) {
        failed = events.stream().filter(e -> e.getTo().equals("FAILED")).findFirst().orElseThrow();
      }
      assertTrue(failed.getReason().contains("signal 9"), failed.getReason());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(manager::assertNothingLeft);
      assertTrue(Files.notExists(Path.of("/proc/" + pid)), "QEMU " + pid + " is still a process (zombie?)");
    }
  }

  @Test
  void aBootedGuestsConsoleIsStreamedAndItsOwnPowerOffIsStopped(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(10), Map.of())) {
      List<Event> events = watch(manager, WatchEventsRequest.getDefaultInstance());
      var created = manager.create(CreateReq.getDefaultInstance()).response();
      String id = created.getCvmId();
      int port = Integer.parseInt(created.getForwardedPort());
      List<LogLine> logs = Collections.synchronizedList(new ArrayList<>());
      manager.stream(CVM, "StreamLogs", StreamLogsRequest.newBuilder().setId(id).setFollow(true).setTail(100).build(),
          LogLine.newBuilder(), (LogLine l) -> logs.add(l)).await();

      // Booting, the guest cannot answer (QEMU holds the probe's connection open meanwhile): the agent is not ready
      // before the kernel even runs /init, seconds before the agent listens.
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
          .failFast("agent ready while the guest was booting", () -> agentReadySeen(events, id))
          .until(() -> consoleShows(logs, "Run /init as init process"));
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
          .until(() -> consoleShows(logs, "cvm-guest: up"));
      await().atMost(Duration.ofSeconds(30)).until(() -> agentReadySeen(events, id));
      // The flag follows the probes (a probe missed under load flips it back for a second): it is seen set.
      await().atMost(Duration.ofSeconds(10)).until(() -> manager.<GetVmRequest, Vm>call(CVM, "GetVm",
          GetVmRequest.newBuilder().setId(id).build(), Vm.newBuilder()).response().getAgentReady());

      AgentProbe.send(port, "poweroff");
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertEquals(List.of("CREATING", "STARTING", "RUNNING", "STOPPED"), states(events, id)));
      // The followed console ends with the VM, its last line saying so.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        LogLine last = logs.get(logs.size() - 1);
        assertEquals("manager", last.getStream());
        assertEquals("the VM ended (STOPPED)", last.getLine());
      });
      await().atMost(Duration.ofSeconds(10)).untilAsserted(manager::assertNothingLeft);

      // A later StreamLogs of the same id: NOT_FOUND.
      List<LogLine> none = new ArrayList<>();
      Future<?> gone = manager.stream(CVM, "StreamLogs", StreamLogsRequest.newBuilder().setId(id).build(),
          LogLine.newBuilder(), (LogLine l) -> none.add(l)).compose(r -> r.end());
      assertTrue(gone.transform(ar -> Future.succeededFuture(ar.failed())).await(), "StreamLogs of a gone VM");
    }
  }

  /** A paused guest cannot answer, though QEMU accepts the probe's connection and keeps it open. */
  @Test
  void aPausedGuestsAgentIsNeverReady(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2),
        Map.of("MANAGER_QEMU_START_PAUSED", "true", "MANAGER_AGENT_PROBE_INTERVAL", "500ms"))) {
      List<Event> events = watch(manager, WatchEventsRequest.getDefaultInstance());
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      // Several probes' worth (each waits out its timeout against a silent connection).
      await().during(Duration.ofSeconds(3 * AgentPortProbe.TIMEOUT_MS / 1000 + 2)).atMost(Duration.ofSeconds(20))
          .until(() -> !manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
              Vm.newBuilder()).response().getAgentReady() && !agentReadySeen(events, id));
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }

  @Test
  void consumersThatNeverReadDoNotStopTheManager(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(70),
        Map.of("MANAGER_QEMU_START_PAUSED", "true", "MANAGER_QEMU_MEMORY_SIZE", "64M", "MANAGER_MAX_VMS", "0"))) {
      MessageConsumer<VmEvent> stuck = Bus.of(manager.vertx()).consume(Addresses.EVENTS, e -> { });
      stuck.pause();
      GrpcClient slow = manager.newClient();
      manager.stream(CVM, "WatchEvents", WatchEventsRequest.getDefaultInstance(), Event.newBuilder(),
          (Event e) -> { }).await().pause();

      List<Future<?>> creates = new ArrayList<>();
      List<String> ids = Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < 50; i++) {
        creates.add(manager.createAsync(CreateReq.getDefaultInstance())
            .onSuccess(r -> ids.add(r.response().getCvmId())));
      }
      Future.all(creates).await();
      assertEquals(50, ids.size());
      List<Future<?>> removes = new ArrayList<>();
      for (String id : ids) {
        removes.add(manager.removeAsync(id));
      }
      Future.all(removes).await();
      for (Future<?> remove : removes) {
        assertEquals(GrpcStatus.OK, ((io.cvmmanager.testing.UnaryCall.Result<?>) remove.result()).status());
      }
      stuck.unregister().await();
      slow.close().await();
    }
  }

  @Test
  void cancellingAStreamFreesItsConsumersOnTheServer(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2),
        Map.of("MANAGER_QEMU_START_PAUSED", "true"))) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      // Event-bus handlers in use, all addresses together (per-address labels are off: one address per VM).
      double before = handlers(manager);

      GrpcClient client = manager.newClient();
      var watch = io.cvmmanager.api.cvm.CvmServiceGrpcClient.create(client, manager.server());
      watch.watchEvents(WatchEventsRequest.getDefaultInstance()).await();
      watch.streamLogs(StreamLogsRequest.newBuilder().setId(id).setFollow(true).build()).await();
      // WatchEvents: one; StreamLogs: its lines and the watch for the VM's end.
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(before + 3, handlers(manager)));

      client.close().await();
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(before, handlers(manager)));

      // A cancel (RST_STREAM, as grpc-go and grpcurl send it) on a connection that stays open frees them too.
      GrpcClient other = manager.newClient();
      var events = other.request(manager.server(), io.cvmmanager.api.cvm.CvmServiceGrpcClient.WatchEvents)
          .compose(request -> request.send(WatchEventsRequest.getDefaultInstance()).map(response -> request))
          .await();
      var logs = other.request(manager.server(), io.cvmmanager.api.cvm.CvmServiceGrpcClient.StreamLogs)
          .compose(request -> request.send(StreamLogsRequest.newBuilder().setId(id).setFollow(true).build())
              .map(response -> request))
          .await();
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(before + 3, handlers(manager)));
      events.cancel();
      logs.cancel();
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(before, handlers(manager)));
      other.close().await();
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }

  private static boolean agentReadySeen(List<Event> events, String id) {
    synchronized (events) {
      return events.stream().anyMatch(e -> e.getId().equals(id) && e.getType().equals(VmEvent.AGENT_READY));
    }
  }

  private static boolean consoleShows(List<LogLine> logs, String text) {
    synchronized (logs) {
      return logs.stream().anyMatch(l -> l.getStream().equals("console") && l.getLine().contains(text));
    }
  }

  private static double handlers(TestManager manager) {
    Double value = manager.metrics().value("vertx_eventbus_handlers");
    return value == null ? 0 : value;
  }
}
