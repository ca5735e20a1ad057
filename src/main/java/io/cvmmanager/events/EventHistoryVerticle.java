package io.cvmmanager.events;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.EventList;
import io.cvmmanager.vm.VmEvent;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Keeps the last lifecycle events of this manager's run, so a client that connects later still learns what
 * happened before — above all what adoption found at start-up (VMs taken back, VMs that ended while the manager
 * was down), which is published before the API takes its first call. Deployed first, to miss nothing.
 */
public final class EventHistoryVerticle extends VerticleBase {
  /** Enough for the adoption report of hundreds of VMs and a while of lifecycle after it. */
  public static final int KEPT = 1000;

  private final Deque<VmEvent> events = new ArrayDeque<>();

  @Override
  public Future<?> start() {
    Bus bus = Bus.of(vertx);
    bus.consume(Addresses.EVENTS, event -> {
      if (events.size() == KEPT) {
        events.removeFirst();
      }
      events.addLast(event);
    });
    bus.serve(Addresses.EVENT_HISTORY, query -> Future.succeededFuture(new EventList(List.copyOf(events))));
    return Future.succeededFuture();
  }
}
