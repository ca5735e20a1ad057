package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.cvmmanager.vm.VmState;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a VM leaves: removed (RemoveVm, TTL, an abandoned create's VM, a manager stopping with
 * MANAGER_STOP_VMS_ON_EXIT), or ended by itself (guest power-off, crash, kill). Both stop what still runs and release
 * the port and files through the same code; a removed VM is STOPPING meanwhile, an ended one final at once.
 */
final class Removal {
  private static final Logger LOG = LoggerFactory.getLogger(Removal.class);

  private final Bus bus;
  private final VmTable table;
  private final StopSequence stopSequence;
  private final TtlTimers ttl;
  private final HostAccounts accounts;
  private final Tracing tracing;
  private final ManagerMetrics metrics;
  private final Duration busTimeout;

  Removal(Vertx vertx, VmTable table, StopSequence stopSequence, TtlTimers ttl, HostAccounts accounts,
      Tracing tracing, ManagerMetrics metrics, Duration busTimeout) {
    this.bus = Bus.of(vertx);
    this.table = table;
    this.stopSequence = stopSequence;
    this.ttl = ttl;
    this.accounts = accounts;
    this.tracing = tracing;
    this.metrics = metrics;
    this.busTimeout = busTimeout;
  }

  /**
   * STOPPING now (listed as such; upstream's calls answer NOT_FOUND from here on), then QEMU stopped and all it had
   * released: STOPPED, or FAILED if QEMU outlived SIGKILL. {@code graceful}: the guest first gets its ACPI powerdown
   * and MANAGER_QEMU_STOP_GRACE.
   */
  Future<Void> remove(Vm vm, String why, SpanContext parent, boolean graceful) {
    ttl.cancel(vm);
    table.transition(vm, VmState.STOPPING, why);
    LOG.info("vm {}: stopping ({})", vm.id, why);
    long started = System.nanoTime();
    Future<Void> done = tracing.span("cvm.remove", parent, Map.of("cvm.vm.id", vm.id, "cvm.reason", why),
        span -> stopAndRelease(vm, graceful)).andThen(ar -> {
          if (ar.succeeded()) {
            metrics.vmRemoved(Duration.ofNanos(System.nanoTime() - started));
            metrics.qemuExited("removed");
            table.transition(vm, VmState.STOPPED, why);
            LOG.info("vm {}: removed", vm.id);
          } else {
            table.transition(vm, VmState.FAILED, why + ": " + ar.cause().getMessage());
          }
        });
    table.releasing(vm, done);
    return done;
  }

  /** A TTL that ended: the VM is removed if it still runs. */
  void expire(Vm vm) {
    if (table.isLive(vm)) {
      LOG.info("vm {}: TTL expired; removing", vm.id);
      remove(vm, "TTL expired", null, true);
    }
  }

  /**
   * The one way an exit that nobody asked for is taken, however it was noticed: STOPPED when QEMU reported a
   * SHUTDOWN first, else FAILED with {@code how} (exit code or signal); then what it had is released.
   */
  void ended(Vm vm, String how) {
    if (!table.isLive(vm)) {
      return;
    }
    ttl.cancel(vm);
    boolean orderly = vm.shutdownReason != null;
    String reason = orderly ? vm.shutdownReason + "; " + how : how;
    metrics.qemuExited(orderly ? "orderly" : how.contains("signal") ? "killed" : "crashed");
    LOG.info("vm {}: ended by itself: {}; releasing its resources", vm.id, reason);
    table.transition(vm, orderly ? VmState.STOPPED : VmState.FAILED, reason);
    table.releasing(vm, stopAndRelease(vm, false));
  }

  /**
   * Stops QEMU (if it still runs), then releases its port and files. A QEMU that outlives every step keeps them
   * until it exits (its exit is still watched): the files of a live VM are never deleted, nor its port handed on.
   */
  Future<Void> stopAndRelease(Vm vm, boolean graceful) {
    return stopSequence.stop(vm, graceful).compose(v -> release(vm), error -> {
      LOG.error("vm {}: {}; its port and files are kept until it exits", vm.id, error.getMessage());
      vm.process.exit().onComplete(ar -> release(vm));
      return Future.failedFuture(error);
    });
  }

  /**
   * Closes QMP, releases the port, deletes the VM's directory (once its last state write has landed), and then
   * gives back what it held of the host.
   */
  private Future<Void> release(Vm vm) {
    bus.send(Addresses.MONITOR_UNWATCH, new VmId(vm.id));
    vm.persistent = false;
    Future<Void> qmpClosed = vm.qmp == null ? Future.succeededFuture() : vm.qmp.close().otherwiseEmpty();
    return qmpClosed
        .transform(ar -> vm.saved.otherwiseEmpty())
        .transform(ar -> releasePort(vm.port))
        .transform(ar -> releaseFiles(vm.id))
        .andThen(ar -> accounts.release(vm.id))
        .mapEmpty();
  }

  /**
   * A create undone: what it was admitted with is given back once its QEMU (if one was spawned) has exited, the
   * undo having stopped it (one that outlived SIGKILL keeps it until it exits); its files are gone by then, as the
   * saga undoes them before.
   */
  void releaseClaim(Vm vm) {
    if (vm.process == null) {
      accounts.release(vm.id);
    } else {
      vm.process.exit().onComplete(ar -> accounts.release(vm.id));
    }
  }

  Future<Nothing> releasePort(int port) {
    return bus.request(Addresses.PORT_RELEASE, new Port(port), busTimeout);
  }

  Future<Nothing> releaseFiles(String id) {
    return bus.request(Addresses.FILES_RELEASE, new VmId(id), busTimeout);
  }
}
