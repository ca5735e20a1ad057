package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.WatchVm;
import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.process.ExitStatus;
import io.cvmmanager.qmp.QmpMessage;
import io.cvmmanager.vm.VmEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;

/**
 * Watches a created VM: its QMP events (published; SHUTDOWN marks the end to come as orderly), and its end however
 * it is noticed — the end of its QMP connection (immediate), its process's exit (NuProcess, or /proc polling for an
 * adopted QEMU) — handed to {@link Removal#ended}, the one exit path. Also has the monitor follow its console and
 * agent port.
 */
final class ExitWatch {
  private final Vertx vertx;
  private final Bus bus;
  private final VmTable table;
  private final Removal removal;
  /** How long QEMU is expected to take to exit once its QMP connection has ended. */
  private final Duration exitWindow;

  ExitWatch(Vertx vertx, VmTable table, Removal removal, Duration exitWindow) {
    this.vertx = vertx;
    this.bus = Bus.of(vertx);
    this.table = table;
    this.removal = removal;
    this.exitWindow = exitWindow;
  }

  void watch(Vm vm) {
    if (vm.qmp != null) {
      vm.qmp.eventHandler(event -> onQmpEvent(vm, event));
      vm.qmp.closeFuture().onComplete(v -> {
        // QEMU closes QMP as it exits, whether it was asked to (remove) or not.
        vm.process.expectExit(exitWindow);
        if (table.isLive(vm)) {
          exitStatus(vm, 25).onSuccess(how -> removal.ended(vm, how));
        }
      });
    }
    vm.process.exit().onSuccess(code -> {
      if (table.isLive(vm)) {
        exitStatus(vm, 0).onSuccess(how -> removal.ended(vm, how));
      }
    });
    // An adopted VM's console is read from its end: its earlier lines were published by the earlier manager.
    bus.send(Addresses.MONITOR_WATCH, new WatchVm(vm.id, vm.port, vm.paths.consoleLog().toString(), vm.adopted,
        vm.process.pid(), vm.paths.pidFile().toString()));
  }

  private void onQmpEvent(Vm vm, QmpMessage.Event event) {
    switch (event.name()) {
      case "SHUTDOWN" -> vm.shutdownReason = "guest shut down (" + event.data().getString("reason", "") + ")";
      case "GUEST_PANICKED" -> table.publish(VmEvent.of(VmEvent.GUEST_PANIC, vm.id, event.data().encode()));
      default -> { }
    }
    // QEMU's own timestamp of the event: the time it happened, not the time it was read.
    table.publish(new VmEvent(VmEvent.QMP, vm.id, "", event.name(), event.time(), event.data().encode()));
  }

  /**
   * How QEMU ended: from /proc while it is a zombie (code and signal told apart), else from NuProcess's exit. The
   * QMP socket closes a moment before the process becomes a zombie: look again every 2 ms, {@code retries} times.
   */
  private Future<String> exitStatus(Vm vm, int retries) {
    String stat = "/proc/" + vm.process.pid() + "/stat";
    return vertx.fileSystem().readFile(stat)
        .map(buffer -> ExitStatus.fromZombieStat(buffer.toString()))
        .otherwise(Optional.empty())
        .compose(status -> {
          if (status.isPresent()) {
            return Future.succeededFuture("QEMU " + status.get());
          }
          if (vm.process.exited() && !vm.adopted) {
            return Future.succeededFuture("QEMU " + describeExit(vm.process.exit().result()));
          }
          if (vm.process.exited()) {
            int code = vm.process.exit().result();
            return Future.succeededFuture(code == ChildProcess.NOT_STARTED
                ? "QEMU ended; its exit status is unknown (another process reaped it)"
                : "QEMU ended (exit code or signal " + code + ")");
          }
          if (retries > 0) {
            Promise<String> later = Promise.promise();
            vertx.setTimer(2, t -> exitStatus(vm, retries - 1).onComplete(later));
            return later.future();
          }
          return Future.succeededFuture("QMP connection lost");
        });
  }

  static String describeExit(int code) {
    return code == ChildProcess.NOT_STARTED ? "exit status lost" : "exit code or signal " + code;
  }
}
