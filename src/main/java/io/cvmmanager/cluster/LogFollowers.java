package io.cvmmanager.cluster;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.LogFollow;
import io.cvmmanager.bus.Messages.LogTail;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.monitor.ConsoleTail;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmLogLine;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner's side of StreamLogs from another node: for each follower, this node's console lines of the VM are sent
 * to the follower's address as they come, until it unfollows, the VM ends (a last line of stream
 * {@link VmLogLine#END}) or the follower's node leaves. Only followed consoles cross the network. Lives on the
 * cluster verticle's event loop.
 */
final class LogFollowers {
  private static final Logger LOG = LoggerFactory.getLogger(LogFollowers.class);
  private final Vertx vertx;
  private final Bus bus;
  private final Path stateDir;
  private final DeliveryOptions local;
  private final Map<String, Follower> followers = new HashMap<>();

  /** One follower: its node, and what feeds it here. */
  private record Follower(String node, MessageConsumer<VmLogLine> lines, MessageConsumer<VmEvent> end) {
    void stop() {
      lines.unregister();
      end.unregister();
    }
  }

  LogFollowers(Vertx vertx, Bus bus, Path stateDir, DeliveryOptions local) {
    this.vertx = vertx;
    this.bus = bus;
    this.stateDir = stateDir;
    this.local = local;
  }

  /** Starts feeding {@code request.address()} (with follow), then answers the console's last lines. */
  Future<LogTail> follow(LogFollow request) {
    String id = request.id();
    return bus.request(Addresses.VM_GET, new VmId(id), local).compose(vm -> {
      if (request.follow() && !followers.containsKey(request.address())) {
        MessageConsumer<VmLogLine> lines = bus.consume(Addresses.VM_LOGS.at(id),
            line -> bus.sendClusterWide(Addresses.CLUSTER_LOG_LINES.at(request.address()), line));
        MessageConsumer<VmEvent> end = bus.consume(Addresses.EVENTS, event -> {
          if (event.id().equals(id) && VmEvent.STATE.equals(event.type())
              && (event.to().equals("STOPPED") || event.to().equals("FAILED"))) {
            bus.sendClusterWide(Addresses.CLUSTER_LOG_LINES.at(request.address()),
                new VmLogLine(id, VmLogLine.END, "the VM ended (" + event.to() + ")", Instant.now()));
            unfollow(request.address());
          }
        });
        followers.put(request.address(), new Follower(request.entryNode(), lines, end));
        LOG.info("vm {}: console followed by node {}", id, request.entryNode());
      }
      return ConsoleTail.lines(vertx, stateDir, id, request.tail()).map(LogTail::new);
    });
  }

  void unfollow(String address) {
    Follower follower = followers.remove(address);
    if (follower != null) {
      follower.stop();
    }
  }

  /** The followers of node {@code left}, which will read no more. */
  void nodeLeft(String left) {
    List.copyOf(followers.entrySet()).stream().filter(e -> e.getValue().node().equals(left))
        .forEach(e -> unfollow(e.getKey()));
  }

  void stopAll() {
    List.copyOf(followers.keySet()).forEach(this::unfollow);
  }
}
