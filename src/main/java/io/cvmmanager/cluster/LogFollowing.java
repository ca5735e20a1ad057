package io.cvmmanager.cluster;

import io.cvmmanager.api.Fleet.Following;
import io.cvmmanager.api.Fleet.Listed;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.LogFollow;
import io.cvmmanager.bus.Messages.LogUnfollow;
import io.cvmmanager.vm.VmLogLine;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;


/**
 * StreamLogs of a VM another node owns, the calling node's side: a cluster-wide consumer of its own address, and a
 * follow request to the owner ({@link LogFollowers} there), which answers the tail and sends each new line until
 * unfollowed; the stream ends with the VM (the owner's last line) or, when the owner leaves, with a line saying so.
 * Lives on the API verticle's event loop.
 */
final class LogFollowing {
  private final ClusterNode node;
  private final Bus bus;
  private final NodeCalls calls;
  /** Consoles followed on another node, by node, then by address: ended (with a line saying so) when it leaves. */
  private final Map<String, Map<String, Runnable>> logStreams = new HashMap<>();

  /** Made on the API verticle's context. */
  LogFollowing(ClusterNode node, Bus bus, NodeCalls calls) {
    this.node = node;
    this.bus = bus;
    this.calls = calls;
    Context context = node.vertx().getOrCreateContext();
    node.onNodeLeft(left -> context.runOnContext(v -> ownerLeft(left)));
  }

  Future<Following> follow(Listed vm, int tail, boolean follow, Consumer<VmLogLine> onLine,
      Consumer<String> onEnd) {
    String owner = vm.node();
    String id = vm.view().id();
    String address = UUID.randomUUID().toString();
    boolean[] over = {false};
    MessageConsumer<?>[] consumer = {null};
    Runnable stop = () -> {
      if (over[0]) {
        return;
      }
      over[0] = true;
      Map<String, Runnable> streams = logStreams.get(owner);
      if (streams != null) {
        streams.remove(address);
      }
      if (consumer[0] != null) {
        consumer[0].unregister();
      }
      if (node.isMember(owner)) {
        bus.requestClusterWide(Addresses.LOG_UNFOLLOW.onNode(owner), new LogUnfollow(address),
            new DeliveryOptions().setSendTimeout(5000));
      }
    };
    Consumer<String> end = why -> {
      if (!over[0]) {
        stop.run();
        onEnd.accept(why);
      }
    };
    Future<MessageConsumer<VmLogLine>> lines = !follow ? Future.succeededFuture()
        : bus.consumeClusterWide(Addresses.CLUSTER_LOG_LINES.at(address), line -> {
          if (VmLogLine.END.equals(line.stream())) {
            end.accept(line.line());
          } else if (!over[0]) {
            onLine.accept(line);
          }
        });
    return lines.compose(registered -> {
      consumer[0] = registered;
      if (follow) {
        logStreams.computeIfAbsent(owner, k -> new HashMap<>()).put(address,
            () -> end.accept("node " + owner + ", which owns VM " + id + ", left the cluster"));
      }
      return calls.reachable(id, owner).compose(o -> calls.remote(o, Addresses.LOG_FOLLOW.onNode(o),
          new LogFollow(id, tail, follow, address, node.name()), new DeliveryOptions().setSendTimeout(10_000)));
    }).map(answer -> new Following(answer.lines(), stop)).onFailure(e -> stop.run());
  }

  private void ownerLeft(String left) {
    Map<String, Runnable> streams = logStreams.remove(left);
    if (streams != null) {
      List.copyOf(streams.values()).forEach(Runnable::run);
    }
  }
}
