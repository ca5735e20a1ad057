package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RemoveVm's stop sequence (powerdown, MANAGER_QEMU_STOP_GRACE, quit, SIGTERM, SIGKILL) against a fake QEMU that
 * ignores the first steps: each next step is taken — the manager's log shows, in order, what the fake ignored
 * (its stderr) and which signals were sent — no step beyond the one that ends it, the removal is OK, and nothing is left.
 */
class StopLadderTest {
  private static final List<String> STEPS = List.of("ignoring system_powerdown", "ignoring quit",
      "sending SIGTERM", "ignoring SIGTERM", "sending SIGKILL");

  @TempDir
  Path stateDir;

  /** The steps of {@link #STEPS} the manager's log shows during the removal of a VM whose fake has {@code faults}. */
  private List<String> stepsOfRemoval(String... faults) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(1), Map.of(
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir, faults).toString(),
        "MANAGER_QEMU_STOP_GRACE", "0s"))) {
      UnaryCall.Result<io.cvmmanager.api.manager.CreateRes> created = manager.create(CreateReq.getDefaultInstance());
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      String log = logDuring(() -> assertEquals(GrpcStatus.OK, manager.remove(created.response().getCvmId()).status()));
      manager.assertNothingLeft();
      return STEPS.stream().filter(log::contains).sorted(Comparator.comparingInt(log::indexOf)).toList();
    }
  }

  private static String logDuring(Runnable action) {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(stderr);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }

  @Test
  void powerdownIgnoredIsFollowedByQuit() throws Exception {
    assertEquals(List.of("ignoring system_powerdown"), stepsOfRemoval("ignore-powerdown"));
  }

  @Test
  void quitIgnoredIsFollowedBySigterm() throws Exception {
    assertEquals(List.of("ignoring system_powerdown", "ignoring quit", "sending SIGTERM"),
        stepsOfRemoval("ignore-powerdown", "ignore-quit"));
  }

  @Test
  void sigtermIgnoredIsFollowedBySigkill() throws Exception {
    assertEquals(STEPS, stepsOfRemoval("ignore-powerdown", "ignore-quit", "ignore-sigterm"));
  }
}
