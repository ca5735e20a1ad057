package io.cvmmanager.launcher;

import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.vm.VmEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each VM's state.json, in order (each write waits for the one before). A failed write of a VM being
 * created fails its create (the saga waits for its records); of a created VM still in the table, it is retried —
 * 1 s, then twice as long each time, up to a minute — until a write lands, and reported meanwhile (events
 * {@code state-unsaved}/{@code state-saved}, {@code cvm_state_write_failures_total}, {@code /health} degraded).
 */
final class StateWriter {
  private static final Logger LOG = LoggerFactory.getLogger(StateWriter.class);
  static final Duration RETRY_FIRST = Duration.ofSeconds(1);
  static final Duration RETRY_MAX = Duration.ofMinutes(1);

  private final Vertx vertx;
  private final ManagerMetrics metrics;
  private final Consumer<VmEvent> publish;
  /** Whether a failed write of this VM is retried: it is created and still in the table. */
  private final Predicate<Vm> retried;

  StateWriter(Vertx vertx, ManagerMetrics metrics, Consumer<VmEvent> publish, Predicate<Vm> retried) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.publish = publish;
    this.retried = retried;
  }

  /** Queues a write of the VM as it is now; {@code vm.saved} is its outcome. Nothing for a VM without a directory. */
  void write(Vm vm) {
    write(vm, RETRY_FIRST);
  }

  private void write(Vm vm, Duration nextRetry) {
    if (!vm.persistent) {
      return;
    }
    VmRecord record = vm.record();
    Future<Void> write = vm.saved.transform(ar -> StateFile.write(vertx, vm.paths, record));
    vm.saved = write;
    write.onComplete(ar -> {
      if (ar.succeeded()) {
        if (vm.unsaved && vm.saved == write) {
          vm.unsaved = false;
          LOG.info("vm {}: state.json written again", vm.id);
          publish.accept(VmEvent.of(VmEvent.STATE_SAVED, vm.id, "state.json written again"));
        }
        return;
      }
      metrics.stateWriteFailed();
      LOG.warn("vm {}: writing state.json failed: {}", vm.id, ar.cause().getMessage());
      if (!retried.test(vm)) {
        return;
      }
      if (!vm.unsaved) {
        vm.unsaved = true;
        publish.accept(VmEvent.of(VmEvent.STATE_UNSAVED, vm.id, "writing state.json failed: "
            + ar.cause().getMessage() + "; retrying"));
      }
      vertx.setTimer(nextRetry.toMillis(), t -> {
        // A newer write stands in for this one; a VM gone meanwhile needs none.
        if (vm.saved == write && retried.test(vm)) {
          Duration doubled = nextRetry.multipliedBy(2);
          write(vm, doubled.compareTo(RETRY_MAX) > 0 ? RETRY_MAX : doubled);
        }
      });
    });
  }
}
