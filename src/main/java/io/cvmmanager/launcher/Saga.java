package io.cvmmanager.launcher;

import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The undo log of a multi-step operation: each step that made something registers how to take it back; on
 * failure, {@link #undo} runs those in reverse order, one after the other, each whatever the previous one did.
 */
final class Saga {
  private static final Logger LOG = LoggerFactory.getLogger(Saga.class);

  private final String vmId;
  private final Deque<Step> undos = new ArrayDeque<>();

  private record Step(String what, Supplier<Future<?>> undo) {}

  Saga(String vmId) {
    this.vmId = vmId;
  }

  void onUndo(String what, Supplier<Future<?>> undo) {
    undos.push(new Step(what, undo));
  }

  Future<Void> undo() {
    Future<Void> chain = Future.succeededFuture();
    while (!undos.isEmpty()) {
      Step step = undos.pop();
      chain = chain.transform(ignored -> step.undo().get().transform(ar -> {
        if (ar.failed()) {
          LOG.warn("vm {}: undo of {} failed: {}", vmId, step.what(), ar.cause().getMessage());
        }
        return Future.<Void>succeededFuture();
      }));
    }
    return chain;
  }
}
