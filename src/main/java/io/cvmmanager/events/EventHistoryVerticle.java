package io.cvmmanager.events;

import io.cvmmanager.vm.VmEvent;

import io.cvmmanager.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Keeps the last lifecycle events of this manager's run, so a client that connects later still learns what
 * happened before — above all what adoption found at start-up (VMs taken back, VMs that ended while the manager
 * was down), which is published before the API takes its first call. Deployed first, to miss nothing.
 */
public final class EventHistoryVerticle extends VerticleBase {
  /** Enough for the adoption report of hundreds of VMs and a while of lifecycle after it. */
  public static final int KEPT = 1000;

  private final Deque<JsonObject> events = new ArrayDeque<>();

  @Override
  public Future<?> start() {
    vertx.eventBus().<JsonObject>consumer(VmEvent.ADDRESS, message -> {
      if (events.size() == KEPT) {
        events.removeFirst();
      }
      events.addLast(message.body());
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENT_HISTORY,
        message -> message.reply(new JsonObject().put("events", new JsonArray(java.util.List.copyOf(events)))));
    return Future.succeededFuture();
  }
}
