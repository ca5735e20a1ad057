package io.cvmmanager.cluster;

import io.cvmmanager.api.Fleet;
import io.cvmmanager.bus.Address;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.Drain;
import io.cvmmanager.bus.Messages.EventList;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Relays;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.NodeEvent;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmLogLine;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's {@link Fleet} in clustered mode. A per-VM call goes to the VM's owner as the cluster view names it:
 * this node's own verticles, or the owner's node-named addresses ({@link NodeCalls}); an id no node has is NOT_FOUND,
 * one whose owner is lost UNAVAILABLE naming the node. Lists, events and nodes are gathered from every node. A
 * CreateVm is {@link ClusterCreates}'s, a console followed on another node {@link LogFollowing}'s. Lives on the API
 * verticle's event loop.
 */
public final class ClusterFleet implements Fleet {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterFleet.class);

  private final ClusterNode node;
  private final Bus bus;
  private final NodeCalls calls;
  private final ClusterCreates creates;
  private final LogFollowing logs;

  /** Made on the API verticle's context, whose event loop it then runs on. */
  public ClusterFleet(ClusterNode node, Bus bus, Tee tee) {
    this.node = node;
    this.bus = bus;
    this.calls = new NodeCalls(node, bus);
    this.creates = new ClusterCreates(node, bus, tee, calls);
    this.logs = new LogFollowing(node, bus, calls);
  }

  // ---- CreateVm

  @Override
  public Future<Placed> create(CreateVm create, DeliveryOptions options) {
    return creates.create(create, options);
  }

  @Override
  public Future<Void> confirm(String callId) {
    return creates.confirm(callId);
  }

  @Override
  public Future<Void> abandon(String callId, DeliveryOptions options) {
    return creates.abandon(callId, options);
  }

  // ---- per-VM calls

  @Override
  public String nodeName() {
    return node.name();
  }

  @Override
  public Future<NodeList> nodes(DeliveryOptions options) {
    return bus.request(Addresses.CLUSTER_NODES, Nothing.INSTANCE, options);
  }

  /** Asks node {@code name} itself, which keeps its drain in its state dir. */
  @Override
  public Future<Void> drain(String name, boolean drain, DeliveryOptions options) {
    if (name.equals(node.name())) {
      return bus.request(Addresses.NODE_DRAIN, new Drain(drain), options).mapEmpty();
    }
    return nodes(options).compose(nodes -> {
      if (nodes.nodes().stream().noneMatch(n -> n.name().equals(name))) {
        return Future.failedFuture(new ManagerException(ErrorKind.NOT_FOUND, "node " + ClientText.quote(name)
            + " is not in the cluster"));
      }
      if (!node.isMember(name) || !node.isTrusted(name)) {
        return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "node " + name
            + " is not reachable (" + (node.isMember(name) ? "not trusted" : "it left the cluster") + ")"));
      }
      return calls.remote(name, Addresses.NODE_DRAIN.onNode(name), new Drain(drain), options).mapEmpty();
    });
  }

  @Override
  public Future<Runnable> watchEvents(Consumer<NodeEvent> onEvent) {
    return bus.consumeClusterWide(Addresses.CLUSTER_EVENTS, onEvent::accept).map(consumer -> consumer::unregister);
  }

  /** Each trusted member's kept events (one that does not answer adds none), oldest first. */
  @Override
  public Future<List<NodeEvent>> eventHistory(DeliveryOptions options) {
    List<Future<List<NodeEvent>>> each = new ArrayList<>();
    for (String member : node.memberNames()) {
      if (!node.isTrusted(member)) {
        continue;
      }
      Future<EventList> events = member.equals(node.name())
          ? bus.request(Addresses.EVENT_HISTORY, Nothing.INSTANCE, options)
          : calls.remote(member, Addresses.EVENT_HISTORY.onNode(member), Nothing.INSTANCE, options);
      each.add(events.map(list -> list.events().stream().map(event -> new NodeEvent(member, event)).toList())
          .otherwise(e -> {
            LOG.info("WatchEvents: node {}'s history not read ({})", member, e.getMessage());
            return List.of();
          }));
    }
    return Future.all(each).map(all -> each.stream().flatMap(f -> f.result().stream())
        .sorted(java.util.Comparator.comparing((NodeEvent e) -> e.event().at())).toList());
  }

  @Override
  public Future<Following> followLogs(Listed vm, int tail, boolean follow, Consumer<VmLogLine> onLine,
      Consumer<String> onEnd) {
    return logs.follow(vm, tail, follow, onLine, onEnd);
  }

  @Override
  public <Q extends BusMessage, R extends BusMessage> Future<R> toOwner(String id, Address<Q, R> address, Q message,
      DeliveryOptions options) {
    return entry(id).compose(entry -> {
      if (entry.isEmpty() || entry.get().node().equals(node.name())) {
        return bus.request(address, message, options);
      }
      return calls.reachable(id, entry.get().node())
          .compose(owner -> calls.remote(owner, address.onNode(owner), message, options));
    });
  }

  @Override
  public Future<Listed> get(String id, DeliveryOptions options) {
    return entry(id).compose(entry -> {
      if (entry.isEmpty() || entry.get().node().equals(node.name())) {
        return bus.request(Addresses.VM_GET, new VmId(id), options)
            .map(view -> new Listed(view, node.name(), node.cluster().host(), 0, true));
      }
      String owner = entry.get().node();
      return calls.reachable(id, owner)
          .compose(o -> calls.remote(o, Addresses.VM_GET.onNode(o), new VmId(id), options))
          .compose(view -> relays().map(ports -> new Listed(view, owner, entry.get().host(),
              ports.getOrDefault(id, 0), true)));
    });
  }

  @Override
  public Future<List<Listed>> list(DeliveryOptions options) {
    Future<VmList> mine = bus.request(Addresses.VM_LIST, Nothing.INSTANCE, options);
    Future<List<String>> view = node.blocking("reading the cluster view",
        () -> List.copyOf(node.map(ClusterNode.VMS).values()));
    return Future.all(mine, view).compose(both -> relays().map(ports -> {
      List<Listed> all = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      for (var vm : mine.result().vms()) {
        seen.add(vm.id());
        all.add(new Listed(vm, node.name(), node.cluster().host(), 0, true));
      }
      for (String text : view.result()) {
        VmEntry entry = VmEntry.decode(text);
        if (!entry.node().equals(node.name()) && seen.add(entry.id())) {
          all.add(new Listed(entry.view(), entry.node(), entry.host(), ports.getOrDefault(entry.id(), 0),
              node.isMember(entry.node())));
        }
      }
      return all;
    }));
  }

  private Future<Map<String, Integer>> relays() {
    return bus.request(Addresses.RELAY_LIST, Nothing.INSTANCE, new DeliveryOptions().setSendTimeout(5000))
        .map(Relays::ports).otherwise(Map.of());
  }

  private Future<Optional<VmEntry>> entry(String id) {
    return node.bounded("looking up VM " + ClientText.quote(id), node.map(ClusterNode.VMS).getAsync(id))
        .map(text -> Optional.ofNullable(text).map(VmEntry::decode));
  }
}
