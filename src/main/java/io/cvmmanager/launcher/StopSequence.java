package io.cvmmanager.launcher;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.process.ProcessSnapshot;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a VM's QEMU: when graceful, ACPI powerdown (not for a paused VM: its guest cannot act on it) and the grace to
 * obey; then QMP quit (when there is a QMP connection to send it on), SIGTERM, SIGKILL, each given a step's time;
 * completes once the process has exited and been reaped, or fails INTERNAL if it survived SIGKILL. A create being
 * undone is not graceful: its guest has barely started, and no client knows it.
 */
final class StopSequence {
  private static final Logger LOG = LoggerFactory.getLogger(StopSequence.class);

  /** How long the guest is given to obey the powerdown, and each later step to end QEMU. */
  record Timing(Duration grace, Duration step) {}

  private final Vertx vertx;
  private final Context context;
  private final Timing timing;
  /** MANAGER_QEMU_USE_SUDO now: for a VM whose record does not say how it was launched. */
  private final boolean sudoByDefault;
  private final String sudo;

  StopSequence(Vertx vertx, Context context, Timing timing, boolean sudoByDefault, String sudo) {
    this.vertx = vertx;
    this.context = context;
    this.timing = timing;
    this.sudoByDefault = sudoByDefault;
    this.sudo = sudo;
  }

  Future<Void> stop(Vm vm, boolean graceful) {
    if (vm.process == null) {
      return Future.succeededFuture();
    }
    Future<Boolean> powerdown = !graceful || vm.paused || vm.qmp == null
        ? Future.succeededFuture(vm.exited())
        : qmpQuietly(vm, "system_powerdown").compose(v -> exitWithin(vm, timing.grace()));
    return powerdown
        .compose(gone -> gone || vm.qmp == null ? Future.succeededFuture(gone)
            : qmpQuietly(vm, "quit").compose(v -> exitWithin(vm, timing.step())))
        .compose(gone -> gone ? Future.succeededFuture(true)
            : signal(vm, false).compose(v -> exitWithin(vm, timing.step())))
        .compose(gone -> gone ? Future.succeededFuture(true)
            : signal(vm, true).compose(v -> exitWithin(vm, timing.step())))
        .compose(gone -> gone ? Future.<Void>succeededFuture()
            : Future.failedFuture(new ManagerException(ErrorKind.INTERNAL,
                "QEMU (pid " + vm.process.pid() + ") survived SIGKILL")));
  }

  private Future<Void> qmpQuietly(Vm vm, String command) {
    // Bounded: a stopped or stuck QEMU never answers, and the signals come next.
    return vm.qmp.execute(command).timeout(timing.step().toMillis(), TimeUnit.MILLISECONDS)
        .<Void>mapEmpty().otherwiseEmpty();
  }

  /** Whether QEMU exits within {@code timeout}. */
  Future<Boolean> exitWithin(Vm vm, Duration timeout) {
    if (vm.exited()) {
      return Future.succeededFuture(true);
    }
    if (vm.qmp == null || vm.qmp.closeFuture().isComplete()) {
      // No QMP connection to end at QEMU's exit: an adopted QEMU's is looked for in /proc meanwhile.
      vm.process.expectExit(timeout);
    }
    // A timer of this loop, not Future.timeout: an adopted process's exit is a future of no context, whose timeout
    // would fire (and run the rest of the ladder) on Netty's global thread instead of the launcher's loop.
    Promise<Boolean> result = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> result.tryComplete(false));
    vm.process.exit().onComplete(ar -> {
      vertx.cancelTimer(timer);
      result.tryComplete(true);
    });
    return result.future();
  }

  /**
   * Under sudo the process we hold is sudo, and QEMU is root's: QEMU itself is signalled, through sudo, by the PID
   * in its pid file — once /proc shows that PID is this VM's QEMU (a stale pid file must not make root kill another
   * process). Whether the VM runs under sudo is what it was launched with, not today's configuration. Should that
   * fail, SIGTERM goes to sudo, which passes it on; SIGKILL never does (it would end sudo and leave QEMU running).
   */
  private Future<Void> signal(Vm vm, boolean kill) {
    LOG.info("vm {}: sending {}", vm.id, kill ? "SIGKILL" : "SIGTERM");
    if (!vm.launchConfig.useSudo().orElse(sudoByDefault)) {
      vm.process.signal(kill);
      return Future.succeededFuture();
    }
    return vertx.fileSystem().readFile(vm.paths.pidFile().toString())
        .compose(text -> ProcessSnapshot.read(vertx, Long.parseLong(text.toString().trim())))
        .compose(process -> Adoption.ourQemu(vm.id, process)
            .map(Future::succeededFuture)
            .orElseGet(() -> Future.failedFuture("qemu.pid names no running QEMU of this VM")))
        .compose(qemuProcess -> ChildProcess.run(context,
            List.of(sudo, "kill", kill ? "-KILL" : "-TERM", String.valueOf(qemuProcess.pid()))))
        .compose(result -> result.succeeded() ? Future.<Void>succeededFuture()
            : Future.failedFuture("sudo kill: " + result.stderr().strip()))
        .recover(e -> {
          LOG.warn("vm {}: signalling QEMU through sudo failed: {}", vm.id, e.getMessage());
          if (!kill) {
            vm.process.signal(false);
          }
          return Future.succeededFuture();
        });
  }
}
