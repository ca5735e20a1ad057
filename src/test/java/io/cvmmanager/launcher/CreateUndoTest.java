package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The create saga's undo at each step that can fail: the files (OVMF_VARS source missing), the spawn (no QEMU
 * binary), QEMU exiting at once, and QMP never coming. Each create fails with its own status, its VM is STOPPING
 * while what it made is undone and FAILED after, and nothing is left. The fake QEMU plays QEMU.
 */
class CreateUndoTest {
  private static final String CVM = "cvm.v1.CvmService";

  @TempDir
  Path stateDir;

  static Stream<Arguments> failingSteps() {
    return Stream.of(
        Arguments.of("prepare-files", GrpcStatus.FAILED_PRECONDITION, (Function<Path, Map<String, String>>) dir ->
            Map.of("MANAGER_QEMU_OVMF_VARS_FILE", dir.resolve("no-such-OVMF_VARS.fd").toString())),
        Arguments.of("spawn", GrpcStatus.FAILED_PRECONDITION, (Function<Path, Map<String, String>>) dir ->
            Map.of("MANAGER_QEMU_BIN_PATH", dir.resolve("no-such-qemu").toString())),
        Arguments.of("qemu-exits", GrpcStatus.FAILED_PRECONDITION, (Function<Path, Map<String, String>>) dir ->
            Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, "exit=3").toString())),
        Arguments.of("qmp-handshake", GrpcStatus.UNAVAILABLE, (Function<Path, Map<String, String>>) dir ->
            Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, "no-socket").toString(),
                "MANAGER_QEMU_QMP_TIMEOUT", "1s")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failingSteps")
  void aCreateThatFailsAtAStepIsStoppingWhileUndoneThenFailedAndLeavesNothing(String step, GrpcStatus status,
      Function<Path, Map<String, String>> fault) throws Exception {
    Map<String, String> settings = new HashMap<>(fault.apply(stateDir));
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(1), settings)) {
      List<Event> events = Collections.synchronizedList(new ArrayList<>());
      manager.stream(CVM, "WatchEvents", WatchEventsRequest.getDefaultInstance(), Event.newBuilder(),
          (Event e) -> events.add(e)).await();
      UnaryCall.Result<CreateRes> result = manager.create(CreateReq.getDefaultInstance());
      assertEquals(status, result.status(), result.message());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        List<String> states = states(events);
        assertTrue(states.size() >= 3, states.toString());
        assertEquals("CREATING", states.get(0), states.toString());
        assertEquals(List.of("STOPPING", "FAILED"), states.subList(states.size() - 2, states.size()),
            states.toString());
      });
      manager.assertNothingLeft();
    }
  }

  private static List<String> states(List<Event> events) {
    synchronized (events) {
      return events.stream().filter(e -> e.getType().equals("state")).map(Event::getTo).toList();
    }
  }
}
