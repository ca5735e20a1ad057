package io.cvmmanager.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Timestamp;
import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cvmctl's list, info, logs and events in this JVM against a whole manager (QEMU started paused). */
class CvmctlObserveIT {
  private static final PortRange PORTS = TestPorts.range(100);
  private static final Map<String, String> PAUSED = Map.of("MANAGER_QEMU_START_PAUSED", "true");
  private static final Pattern CREATED =
      Pattern.compile("Virtual machine created successfully with id (\\S+) and port (\\d+)\n");
  private static final Pattern EVENT = Pattern.compile("(\\S+) (\\S+) (\\S+) (\\S*)->(\\S+)(?: (.*))?");
  private static final Duration STREAM_END = Duration.ofSeconds(5);

  /** A command running in its own thread, its stdout readable while it runs, stopped by {@link #interrupt}. */
  private record Background(CompletableFuture<CvmctlRun> run, ByteArrayOutputStream out, Interrupt interrupt) {
    String output() {
      return out.toString(StandardCharsets.UTF_8);
    }

    CvmctlRun awaitEnd() throws Exception {
      return run.get(STREAM_END.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private static Background inBackground(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Interrupt interrupt = Interrupt.byCaller();
    CompletableFuture<CvmctlRun> run = CompletableFuture.supplyAsync(() -> {
      int exit = Cvmctl.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8), interrupt);
      return new CvmctlRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    });
    return new Background(run, out, interrupt);
  }

  private static Map<String, String> envFor(TestManager manager) {
    return Map.of(ManagerConnection.URL, "localhost:" + manager.config().grpc().port());
  }

  private static String create(TestManager manager, String... flags) {
    String[] args = new String[flags.length + 3];
    args[0] = "create-vm";
    args[1] = "--server-url";
    args[2] = "cvms.example:7001";
    System.arraycopy(flags, 0, args, 3, flags.length);
    CvmctlRun run = CvmctlRun.of(envFor(manager), args);
    assertEquals(0, run.exit(), run.err());
    Matcher line = CREATED.matcher(run.out());
    assertTrue(line.matches(), run.out());
    return line.group(1);
  }

  private static void remove(TestManager manager, String id) {
    CvmctlRun run = CvmctlRun.of(envFor(manager), "remove-vm", id);
    assertEquals(0, run.exit(), run.err());
  }

  @Test
  void listAndInfoShowACreatedVmsFields(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      String id = create(manager, "--ttl", "10m");

      CvmctlRun table = CvmctlRun.of(envFor(manager), "list");
      assertEquals(0, table.exit(), table.err());
      assertEquals(2, table.lines().size(), table.out());
      assertEquals(List.of("ID", "STATE", "PORT", "PID", "AGENT", "BOOT", "TEE", "CREATED", "TTL", "NODE"),
          List.of(table.lines().get(0).split(" +")));
      List<String> row = List.of(table.lines().get(1).split(" +"));
      assertEquals(List.of(id, "RUNNING"), row.subList(0, 2));
      assertTrue(PORTS.contains(Integer.parseInt(row.get(2))), row.toString());
      assertEquals(List.of("-", "kernel", "NONE"), row.subList(4, 7));
      Instant created = Instant.parse(row.get(7));
      assertEquals(Duration.ofMinutes(10).toSeconds(),
          Duration.between(created, Instant.parse(row.get(8))).toSeconds(), 1);
      assertEquals("-", row.get(9), "a single host: no node");

      CvmctlRun json = CvmctlRun.of(envFor(manager), "list", "--json");
      assertEquals(0, json.exit(), json.err());
      assertEquals(1, json.lines().size(), json.out());
      JsonObject vm = new JsonObject(json.lines().get(0));
      assertEquals(id, vm.getString("id"));
      assertEquals("RUNNING", vm.getString("state"));
      assertEquals(Integer.parseInt(row.get(2)), vm.getInteger("port"));
      assertTrue(vm.getBoolean("paused"));
      assertNotNull(Instant.parse(vm.getString("ttlDeadline")));

      CvmctlRun info = CvmctlRun.of(envFor(manager), "info", id);
      assertEquals(0, info.exit(), info.err());
      Map<String, String> fields = new LinkedHashMap<>();
      for (String line : info.lines()) {
        String[] keyValue = line.split(": ", 2);
        fields.put(keyValue[0], keyValue[1]);
      }
      assertEquals(Vm.getDescriptor().getFields().stream().map(FieldDescriptor::getName).toList(),
          List.copyOf(fields.keySet()), "every field of GetVm, in order");
      assertEquals(id, fields.get("id"));
      assertEquals("RUNNING", fields.get("state"));
      assertEquals(row.get(2), fields.get("port"));
      assertEquals(row.get(3), fields.get("pid"));
      assertEquals(vm.getString("created"), fields.get("created"));
      assertEquals("true", fields.get("paused"));
      assertEquals("false", fields.get("agent_ready"));
      assertTrue(fields.get("kernel_cmdline").startsWith("console=ttyS0"), fields.get("kernel_cmdline"));

      remove(manager, id);
      assertEquals(1, CvmctlRun.of(envFor(manager), "list").lines().size(), "only the header");
      assertEquals("", CvmctlRun.of(envFor(manager), "list", "--json").out());
    }
  }

  @Test
  void infoOfAnUnknownVmIsNotFound(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      CvmctlRun run = CvmctlRun.of(envFor(manager), "info", "no-such-vm");
      assertEquals(1, run.exit());
      assertEquals("", run.out());
      assertTrue(run.err().startsWith("error: NOT_FOUND: "), run.err());
      assertTrue(run.err().contains("no-such-vm"), run.err());
    }
  }

  @Test
  void eventsShowACreateAndARemoveInOrderAndOutliveTheTimeout(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      String existing = create(manager);
      // The replay line of the VM already there says the stream is open; the timeout must not end the stream.
      Background events = inBackground(envFor(manager), "events", "--replay", "--timeout", "300ms");
      await().atMost(STREAM_END).until(() -> events.output().contains(" " + existing + " state RUNNING->RUNNING "));

      String id = create(manager);
      remove(manager, id);
      await().atMost(STREAM_END).until(() -> events.output().contains(" " + id + " state STOPPING->STOPPED"));
      events.interrupt().request();
      CvmctlRun run = events.awaitEnd();
      assertEquals(0, run.exit(), run.err());

      List<String> states = run.lines().stream().map(EVENT::matcher).filter(Matcher::matches)
          .filter(event -> event.group(2).equals(id) && event.group(3).equals("state"))
          .map(event -> event.group(4) + "->" + event.group(5)).toList();
      assertEquals(List.of("->CREATING", "CREATING->STARTING", "STARTING->RUNNING", "RUNNING->STOPPING",
          "STOPPING->STOPPED"), states, run.out());
      for (String line : run.lines()) {
        assertNotNull(Instant.parse(line.substring(0, line.indexOf(' '))), line);
      }
      remove(manager, existing);
    }
  }

  @Test
  void logsOfAPausedVmIsItsEmptyConsoleAndAFollowEndsWithTheVm(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      String id = create(manager);
      CvmctlRun tail = CvmctlRun.of(envFor(manager), "logs", id);
      assertEquals(0, tail.exit(), tail.err());
      assertEquals("", tail.out(), "a paused guest has printed nothing");

      // The manager fails this stream after its headers: the status message comes in the trailers.
      CvmctlRun unknown = CvmctlRun.of(envFor(manager), "logs", "no-such-vm");
      assertEquals(1, unknown.exit());
      assertTrue(unknown.err().startsWith("error: NOT_FOUND: "), unknown.err());
      assertTrue(unknown.err().contains("no-such-vm"), unknown.err());

      Background follow = inBackground(envFor(manager), "logs", "-f", id);
      follow.interrupt().opened().toCompletableFuture().get(STREAM_END.toSeconds(), TimeUnit.SECONDS);
      remove(manager, id);
      CvmctlRun run = follow.awaitEnd();
      assertEquals(0, run.exit(), run.err());
      List<String> lines = run.lines();
      assertEquals(LogsCommand.MANAGER_PREFIX + "the VM ended (STOPPED)", lines.get(lines.size() - 1), run.out());
      for (String line : lines.subList(0, lines.size() - 1)) {
        assertTrue(line.startsWith(LogsCommand.QEMU_PREFIX), "only QEMU's stderr from a paused VM: " + line);
      }
    }
  }

  @Test
  void eventLinesShowWhatEachTypeCarries() {
    Timestamp at = Timestamp.newBuilder().setSeconds(1_700_000_000).setNanos(5_000_000).build();
    Event.Builder event = Event.newBuilder().setId("vm1").setAt(at);
    assertEquals("2023-11-14T22:13:20.005Z vm1 state ->CREATING CreateVm",
        EventsCommand.text(event.clone().setType("state").setTo("CREATING").setReason("CreateVm").build()));
    assertEquals("2023-11-14T22:13:20.005Z vm1 agent-ready",
        EventsCommand.text(event.clone().setType("agent-ready").build()));
    assertEquals("2023-11-14T22:13:20.005Z vm1 qmp SHUTDOWN {\"guest\":true}",
        EventsCommand.text(event.clone().setType("qmp").setTo("SHUTDOWN").setReason("{\"guest\":true}").build()));
  }

  @Test
  void unsetTtlIsADashAndNullNotAnEpoch() {
    Vm vm = Vm.newBuilder().setId("vm1").setCreated(Timestamp.newBuilder().setSeconds(1)).build();
    Map<FieldDescriptor, Object> fields = VmFields.of(vm);
    assertNull(fields.get(Vm.getDescriptor().findFieldByName("ttl_deadline")));
    assertEquals("1970-01-01T00:00:01Z", fields.get(Vm.getDescriptor().findFieldByName("created")));
  }
}
