package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new QEMU whose QMP does not come up (the fake QEMU's faults): the CreateVm error says how far it got, within
 * MANAGER_QEMU_QMP_TIMEOUT, with QEMU's stderr; a QEMU that exits is FAILED_PRECONDITION with its stderr; nothing
 * is left behind (the fake's process, whose arguments name the state dir, its files, its port, its entry in the
 * table).
 */
class QmpHandshakeFaultsTest {
  private static final Duration QMP_TIMEOUT = Duration.ofSeconds(2);

  @TempDir
  Path stateDir;

  /** The reply may take the bound, and this much more for QEMU's start and the undo. */
  private static final Duration MARGIN = Duration.ofSeconds(3);

  /** The create's reply, asserted to come within MANAGER_QEMU_QMP_TIMEOUT and {@link #MARGIN}. */
  private UnaryCall.Result<?> createWith(String... faults) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(1), Map.of(
        "MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir, faults).toString(),
        "MANAGER_QEMU_QMP_TIMEOUT", QMP_TIMEOUT.toSeconds() + "s"))) {
      long started = System.nanoTime();
      UnaryCall.Result<?> result = manager.create(CreateReq.getDefaultInstance());
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertTrue(took.compareTo(QMP_TIMEOUT.plus(MARGIN)) < 0, "the reply took " + took);
      manager.assertNothingLeft();
      return result;
    }
  }

  private static void assertFailure(UnaryCall.Result<?> result, GrpcStatus status, String... parts) {
    assertEquals(status, result.status(), "status; message: " + result.message());
    for (String part : parts) {
      assertTrue(result.message().contains(part), "message \"" + result.message() + "\" lacks " + part);
    }
  }

  @Test
  void noSocketIsUnavailableNamingTheSocketAndTheBound() throws Exception {
    assertFailure(createWith("no-socket"), GrpcStatus.UNAVAILABLE, "QEMU made no QMP socket",
        "qmp.sock", "within 2000 ms (MANAGER_QEMU_QMP_TIMEOUT)", "fake-qemu: making no QMP socket, as told");
  }

  @Test
  void aSocketThatNeverGreetsIsUnavailableSayingSo() throws Exception {
    assertFailure(createWith("no-greeting"), GrpcStatus.UNAVAILABLE,
        "accepted the connection but QEMU sent no greeting", "within 2000 ms (MANAGER_QEMU_QMP_TIMEOUT)",
        "fake-qemu: sending no QMP greeting, as told");
  }

  @Test
  void aGreetingWithoutAnAnswerToQmpCapabilitiesIsUnavailableSayingSo() throws Exception {
    assertFailure(createWith("hang-after-greeting"), GrpcStatus.UNAVAILABLE,
        "greeted on QMP socket", "did not answer qmp_capabilities", "within 2000 ms (MANAGER_QEMU_QMP_TIMEOUT)",
        "fake-qemu: answering nothing after the QMP greeting, as told");
  }

  @Test
  void aQemuThatExitsAtOnceIsFailedPreconditionWithItsStderr() throws Exception {
    assertFailure(createWith("exit=3"), GrpcStatus.FAILED_PRECONDITION,
        "QEMU exited at once (exit code or signal 3)", "fake-qemu: exiting with 3 as told");
  }

  @Test
  void aQemuThatDiesDuringTheHandshakeIsFailedPreconditionWithItsStderr() throws Exception {
    // It greets, holds qmp_capabilities unanswered, and dies: QMP ends first, then the process.
    assertFailure(createWith("hold=qmp_capabilities", "die-after=500"), GrpcStatus.FAILED_PRECONDITION,
        "QEMU exited at once (exit code or signal 1)", "fake-qemu: dying after 500 ms as told");
  }
}
