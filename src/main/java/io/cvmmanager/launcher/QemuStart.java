package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.error.NoSpaceLeft;
import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.process.ProcessSnapshot;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.qmp.QmpClient;
import io.cvmmanager.qmp.QmpException;
import io.cvmmanager.qmp.SocketWatcher;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.vm.VmLogLine;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new VM's QEMU, from spawn to QMP ready: spawned in its own session; its identity (PID and start time) made
 * durable in state.json while its QMP handshake runs — or QEMU's exit with its stderr, or, after
 * MANAGER_QEMU_QMP_TIMEOUT, UNAVAILABLE saying how far QEMU got.
 */
final class QemuStart {
  private static final Logger LOG = LoggerFactory.getLogger(QemuStart.class);

  private final Vertx vertx;
  private final Context context;
  private final Bus bus;
  private final VmTable table;
  private final StopSequence stopSequence;
  private final SocketWatcher sockets;
  private final NetClient qmpNet;
  private final Duration qmpTimeout;
  private final Path stateDir;
  /** How long QEMU is given to exit once it has closed QMP, for its exit status and stderr to be reported. */
  private final Duration exitWindow;

  QemuStart(Context context, VmTable table, StopSequence stopSequence, SocketWatcher sockets, NetClient qmpNet,
      Duration qmpTimeout, Path stateDir, Duration exitWindow) {
    this.vertx = context.owner();
    this.context = context;
    this.bus = Bus.of(vertx);
    this.table = table;
    this.stopSequence = stopSequence;
    this.sockets = sockets;
    this.qmpNet = qmpNet;
    this.qmpTimeout = qmpTimeout;
    this.stateDir = stateDir;
    this.exitWindow = exitWindow;
  }

  Future<Void> spawn(Vm vm) {
    List<String> command = new ArrayList<>();
    // Its own session, so QEMU is in no process group of ours and can outlive the manager.
    command.add("setsid");
    // numactl execs in place too: the PID stays the spawned one, its command line vm.command.
    List<String> numactl = QemuCommand.numactl(vm.claim.tee(), vm.claim.placement());
    command.addAll(numactl);
    command.addAll(vm.command);
    if (vm.claim.placement().plan() == Placement.Plan.INTERLEAVE) {
      LOG.warn("vm {}: its TEE memory fits no single NUMA node: interleaved over nodes {}", vm.id,
          vm.claim.placement().nodeList());
    }
    return ChildProcess.start(context, command, null,
            line -> LOG.debug("vm {}: qemu: {}", vm.id, line),
            line -> {
              vm.keepStderr(line);
              LOG.info("vm {}: qemu stderr: {}", vm.id, line);
              bus.publish(Addresses.VM_LOGS.at(vm.id), new VmLogLine(vm.id, VmLogLine.STDERR, line, Instant.now()));
            })
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
            "cannot start QEMU (" + (numactl.isEmpty() ? vm.command : numactl).get(0) + "): " + e.getMessage())))
        .map(process -> {
          vm.process = process;
          return null;
        });
  }

  /** The spawned QEMU's start time, which with its PID identifies it to a later manager; then state.json. */
  Future<Void> recordIdentity(Vm vm) {
    return ProcessSnapshot.readStat(vertx, vm.process.pid()).compose(snapshot -> {
      snapshot.ifPresent(s -> vm.pidStartTime = s.startTime());
      table.persist(vm);
      return vm.saved;
    });
  }

  /** QMP ready (then {@code vm.qmp} is set), or QEMU's exit, or UNAVAILABLE after MANAGER_QEMU_QMP_TIMEOUT. */
  Future<Void> connectQmp(Vm vm) {
    Promise<Void> ready = Promise.promise();
    Path socket = vm.paths.qmpSocket();
    vm.process.exit().onSuccess(code -> {
      sockets.forget(socket);
      ready.tryFail(exitedAtOnce(vm, code));
    });
    long deadline = System.nanoTime() + qmpTimeout.toNanos();
    sockets.appearance(context, socket)
        .timeout(qmpTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .recover(e -> {
          sockets.forget(socket);
          return Future.failedFuture(e instanceof TimeoutException
              ? new QmpException("Timeout", "QEMU made no QMP socket " + socket) : e);
        })
        .compose(v -> QmpClient.connect(vertx, qmpNet, socket, Duration.ofNanos(deadline - System.nanoTime())))
        // A QEMU that closes QMP is exiting: its exit, with its stderr, is the better answer.
        .recover(e -> e instanceof QmpException q && "Disconnected".equals(q.errorClass())
            ? stopSequence.exitWithin(vm, exitWindow).transform(ignored -> Future.failedFuture(e))
            : Future.failedFuture(e))
        .onComplete(ar -> {
          if (ar.failed()) {
            ready.tryFail(qmpUnavailable(ar.cause(), vm.stderrSummary()));
          } else if (ready.future().isComplete()) {
            ar.result().close();
          } else {
            // Set before completing: what runs on completion (watch) uses it.
            vm.qmp = ar.result();
            ready.complete();
          }
        });
    return ready.future();
  }

  /**
   * QEMU's exit before QMP: out of space for its pid file or console in the state dir is exhausted, anything else
   * a configuration QEMU refused.
   */
  private ManagerException exitedAtOnce(Vm vm, int code) {
    String exited = "QEMU exited at once (" + ExitWatch.describeExit(code) + "): " + vm.stderrSummary();
    return NoSpaceLeft.in(vm.stderrSummary()) && vm.stderrSummary().contains(stateDir.toString())
        ? new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, exited + " (state dir " + stateDir + ")")
        : new ManagerException(ErrorKind.FAILED_PRECONDITION, exited);
  }

  /** A new QEMU whose QMP did not come up: what happened, the bound if it ran out, and QEMU's stderr. */
  private ManagerException qmpUnavailable(Throwable cause, String stderr) {
    boolean timedOut = cause instanceof QmpException q && "Timeout".equals(q.errorClass());
    return new ManagerException(ErrorKind.UNAVAILABLE, cause.getMessage()
        + (timedOut ? " within " + qmpTimeout.toMillis() + " ms (MANAGER_QEMU_QMP_TIMEOUT)" : "")
        + "; QEMU's stderr: " + stderr);
  }
}
