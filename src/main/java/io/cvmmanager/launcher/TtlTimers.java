package io.cvmmanager.launcher;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * A VM's TTL: a timer at its absolute deadline (so time the manager spent down counts; a deadline already past
 * fires at once), cancelled when the VM goes first.
 */
final class TtlTimers {
  private final Vertx vertx;

  TtlTimers(Vertx vertx) {
    this.vertx = vertx;
  }

  void arm(Vm vm, Consumer<Vm> onExpiry) {
    vm.ttlDeadline.ifPresent(deadline -> {
      long delay = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
      vm.ttlTimer = vertx.setTimer(delay, t -> {
        vm.ttlTimer = -1;
        onExpiry.accept(vm);
      });
    });
  }

  void cancel(Vm vm) {
    if (vm.ttlTimer >= 0) {
      vertx.cancelTimer(vm.ttlTimer);
      vm.ttlTimer = -1;
    }
  }

  static boolean expired(Vm vm) {
    return vm.ttlDeadline.map(deadline -> !deadline.isAfter(Instant.now())).orElse(false);
  }
}
