package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.process.RunningProcess;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signal steps of the stop sequence, one by one, against scripted processes that obey only the signals they
 * are told to (no QEMU; the QMP steps are {@code StopLadderTest}'s, with the fake QEMU): SIGTERM first, SIGKILL
 * when SIGTERM is ignored, INTERNAL when even SIGKILL is survived; under sudo, QEMU is signalled by the PID of its
 * pid file through the sudo program, never the process we hold.
 */
class StopSequenceTest {
  private static final String ID = "5d0f3c64-1f7e-4c58-8b43-0c8c2f6a9e01";
  private static final StopSequence.Timing FAST = new StopSequence.Timing(Duration.ofMillis(50),
      Duration.ofMillis(200));

  @TempDir
  Path dir;
  private Vertx vertx;
  private Context context;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void closeVertx() {
    vertx.close().await();
  }

  /** A process that ends at the first signal it obeys, and records every signal it gets. */
  private static final class ScriptedProcess implements RunningProcess {
    private final Promise<Integer> exit = Promise.promise();
    private final Set<String> obeys;
    final List<String> signals = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();

    ScriptedProcess(String... obeys) {
      this.obeys = Set.of(obeys);
    }

    @Override
    public int pid() {
      return 4242;
    }

    @Override
    public Future<Integer> exit() {
      return exit.future();
    }

    @Override
    public boolean exited() {
      return exit.future().isComplete();
    }

    @Override
    public void signal(boolean force) {
      String signal = force ? "SIGKILL" : "SIGTERM";
      signals.add(signal);
      threads.add(Thread.currentThread().getName());
      if (obeys.contains(signal)) {
        exit.tryComplete(force ? 137 : 143);
      }
    }
  }

  private Vm vm(RunningProcess process, boolean sudo) {
    LaunchConfig launched = new LaunchConfig("", "qemu-system-x86_64", Optional.of(sudo), "q35", "max", false,
        "128M", 1, "kernel", "NONE", false, 7002, "", false);
    Vm vm = new Vm(ID, new VmPaths(dir.resolve(ID)), Tee.NONE, false, false, "", Optional.empty(), launched);
    vm.process = process;
    return vm;
  }

  private Future<Void> stop(Vm vm, boolean graceful, String sudo) {
    StopSequence sequence = new StopSequence(vertx, context, FAST, false, sudo);
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> sequence.stop(vm, graceful).onComplete(done));
    return done.future();
  }

  @Test
  void withoutQmpSigtermComesFirstAndEndsAnObedientProcess() {
    ScriptedProcess process = new ScriptedProcess("SIGTERM", "SIGKILL");
    stop(vm(process, false), true, "sudo").await();
    assertEquals(List.of("SIGTERM"), process.signals);
  }

  @Test
  void sigtermIgnoredIsFollowedBySigkill() {
    ScriptedProcess process = new ScriptedProcess("SIGKILL");
    stop(vm(process, false), true, "sudo").await();
    assertEquals(List.of("SIGTERM", "SIGKILL"), process.signals);
  }

  @Test
  void aProcessThatSurvivesSigkillFailsTheStopAsInternal() {
    ScriptedProcess process = new ScriptedProcess();
    Throwable failure = stop(vm(process, false), false, "sudo").transform(ar -> Future.succeededFuture(ar.cause()))
        .await();
    assertEquals(List.of("SIGTERM", "SIGKILL"), process.signals);
    // Its exit future has no context (as an adopted process's): each next step still runs on the launcher's loop.
    assertTrue(process.threads.stream().allMatch(t -> t.startsWith("vert.x-eventloop-thread")), process.threads
        .toString());
    assertEquals(ErrorKind.INTERNAL, ((ManagerException) failure).kind());
    assertEquals("QEMU (pid 4242) survived SIGKILL", failure.getMessage());
  }

  @Test
  void aProcessAlreadyGoneGetsNoSignal() {
    ScriptedProcess process = new ScriptedProcess("SIGTERM");
    process.exit.complete(0);
    stop(vm(process, false), true, "sudo").await();
    assertEquals(List.of(), process.signals);
  }

  /**
   * Under sudo the QEMU named by qemu.pid (here a Python process whose command line says {@code -name cvm-<id>}, as
   * QEMU's does) is signalled through the sudo program — a stand-in that logs its arguments and runs them — and
   * the process held (sudo's, in production) is not signalled at all.
   */
  @Test
  void underSudoQemuIsSignalledThroughSudoByItsPidFile() throws Exception {
    Path sudoLog = dir.resolve("sudo.log");
    Path sudo = Files.writeString(dir.resolve("fake-sudo"), "#!/bin/sh\necho \"$@\" >> '" + sudoLog
        + "'\nexec \"$@\"\n");
    Files.setPosixFilePermissions(sudo, PosixFilePermissions.fromString("rwx------"));
    ChildProcess qemu = ChildProcess.start(context, List.of("python3", "-c", "import time; time.sleep(60)",
        "-name", "cvm-" + ID), null, line -> { }, line -> { }).await();
    try {
      Files.createDirectories(dir.resolve(ID));
      Files.writeString(new VmPaths(dir.resolve(ID)).pidFile(), qemu.pid() + "\n");
      RecordingProcess held = new RecordingProcess(qemu);
      stop(vm(held, true), false, sudo.toString()).await();
      assertEquals("kill -TERM " + qemu.pid(), Files.readString(sudoLog).strip());
      assertEquals(List.of(), held.signals, "the process held is not signalled under sudo");
      assertTrue(qemu.exited());
    } finally {
      qemu.signal(true);
    }
  }

  /** The process held, whose exit is QEMU's (as sudo's is), recording the signals sent to it directly. */
  private static final class RecordingProcess implements RunningProcess {
    private final RunningProcess process;
    final List<String> signals = new CopyOnWriteArrayList<>();

    RecordingProcess(RunningProcess process) {
      this.process = process;
    }

    @Override
    public int pid() {
      return process.pid();
    }

    @Override
    public Future<Integer> exit() {
      return process.exit();
    }

    @Override
    public boolean exited() {
      return process.exited();
    }

    @Override
    public void signal(boolean force) {
      signals.add(force ? "SIGKILL" : "SIGTERM");
      process.signal(force);
    }
  }
}
