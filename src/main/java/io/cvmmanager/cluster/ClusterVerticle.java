package io.cvmmanager.cluster;

import io.cvmmanager.bus.Address;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.Drain;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.VmCreated;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.CreateOrigin;
import io.cvmmanager.vm.NodeEvent;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in the cluster, once its own VMs are adopted (it is deployed after the launcher):
 * <ol>
 *   <li>settles the VMs other nodes placed here whose create outcome says their client never got the id (see
 *       {@link CreateOutcomes}), before it serves anything;</li>
 *   <li>publishes its table to the cluster view ({@code cvm.vms}), which is then kept by every transition, every
 *       {@link #REPUBLISH} and after a merge; its own entries that name no VM of its table are removed;</li>
 *   <li>publishes its node record ({@code cvm.nodes}) at every change and every {@link #REFRESH};</li>
 *   <li>serves, at node-named addresses over the event bus, what other nodes route to it: CreateVm (placed here),
 *       its abandonment, RemoveVm, GetVm, AttestationPolicy, and a ping;</li>
 *   <li>pings every other member: one that answers over the event bus's mutual TLS is trusted (placed on, routed
 *       to); one that does not is flagged in {@code cvm.node-flags};</li>
 *   <li>when a node leaves: removes its record, and settles the creates it placed here that it never delivered.</li>
 * </ol>
 */
public final class ClusterVerticle extends VerticleBase {
  public static final Duration REFRESH = Duration.ofSeconds(2);
  /** Its presence in the state dir: this node is drained. */
  static final String DRAIN_FILE = "drained";
  static final Duration REPUBLISH = Duration.ofSeconds(10);
  static final Duration TRUST_CHECK = Duration.ofSeconds(3);
  private static final Duration PING_TIMEOUT = Duration.ofSeconds(3);
  /** The pinging node's name, in a ping's headers. */
  private static final String FROM_NODE = "cvm-node";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterVerticle.class);

  private final ClusterNode node;
  private final ManagerConfig config;
  private final Tee tee;
  private final CreateOutcomes outcomes;
  private final List<MessageConsumer<?>> endpoints = new ArrayList<>();
  /** Nodes that did not answer a ping, with how many times in a row. */
  private final Map<String, Integer> unanswered = new HashMap<>();
  private Bus bus;
  private ViewWriter view;
  private LogFollowers logFollowers;
  private DeliveryOptions local;
  private String state = NodeRecord.READY;
  /** DrainNode: no new VMs here; kept in the state dir across restarts. */
  private boolean drained;
  private boolean saidStoppable;
  /** The last write of this node's record; the next one starts after it. */
  private Future<Void> recordWritten = Future.succeededFuture();
  private boolean recordDue;
  private long recordTimer = -1;
  private boolean stopping;

  public ClusterVerticle(ClusterNode node, Tee tee) {
    this.node = node;
    this.config = node.config();
    this.tee = tee;
    this.outcomes = new CreateOutcomes(node);
  }

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    view = new ViewWriter(node, bus);
    local = new DeliveryOptions().setSendTimeout(config.grpcTimeout().toMillis());
    logFollowers = new LogFollowers(vertx, bus, config.stateDir(), local);
    Context context = vertx.getOrCreateContext();
    node.onNodeLeft(left -> context.runOnContext(v -> nodeLeft(left)));
    node.onNodeJoined(joined -> context.runOnContext(v -> ping(joined)));
    node.onMerged(() -> context.runOnContext(v -> publishTable().onComplete(ar -> recordChanged())));
    return vertx.fileSystem().exists(drainFile().toString())
        .onSuccess(drainedBefore -> {
          drained = drainedBefore;
          state = drained ? NodeRecord.DRAINING : NodeRecord.READY;
          if (drained) {
            LOG.info("cluster: node {} is drained (since before this start): no new VMs are placed here", node.name());
          }
        })
        .compose(d -> settleAll(entry -> true))
        .compose(v -> publishTable())
        .compose(v -> publishRecord())
        .compose(v -> {
          bus.serve(Addresses.NODE_DRAIN, this::drain);
          return serveOthers();
        })
        .onSuccess(v -> {
          bus.serve(Addresses.CLUSTER_NODES, query -> nodes());
          bus.consume(Addresses.EVENTS, this::vmChanged);
          vertx.setPeriodic(REFRESH.toMillis(), t -> publishRecord());
          vertx.setPeriodic(REPUBLISH.toMillis(), t -> publishTable());
          vertx.setPeriodic(TRUST_CHECK.toMillis(), t -> checkTrust());
          checkTrust();
          LOG.info("cluster: node {} serving; {} member(s) now: {}", node.name(), node.memberNames().size(),
              String.join(", ", new java.util.TreeSet<>(node.memberNames())));
        });
  }

  /** Stops taking placements: the record says draining, and nothing is served to other nodes any more. */
  @Override
  public Future<?> stop() {
    stopping = true;
    state = NodeRecord.DRAINING;
    logFollowers.stopAll();
    List<Future<Void>> unregistered = endpoints.stream().map(MessageConsumer::unregister).toList();
    return publishRecord().transform(ar -> Future.join(unregistered)).otherwiseEmpty();
  }

  // ---- settling cross-node creates

  /** Settles every VM placed here by another node whose entry node {@code which} selects. */
  private Future<Void> settleAll(Predicate<String> which) {
    return bus.request(Addresses.VM_LIST, Nothing.INSTANCE, local).compose(list -> {
      List<Future<Void>> settled = new ArrayList<>();
      // A create still under way is settled when it completes (createHere).
      for (VmView vm : list.vms().stream().filter(vm -> vm.state() == VmState.RUNNING).toList()) {
        vm.origin().filter(o -> !o.entryNode().equals(node.name()) && which.test(o.entryNode()))
            .ifPresent(origin -> settled.add(settle(vm.id(), origin)));
      }
      return Future.join(settled).<Void>mapEmpty();
    }).recover(e -> {
      LOG.warn("cluster: settling creates placed here failed: {}", e.getMessage());
      return Future.succeededFuture();
    });
  }

  private Future<Void> settle(String id, CreateOrigin origin) {
    return outcomes.settle(origin.callId(), origin.entryNode()).compose(settled -> {
      if (settled == CreateOutcomes.Settled.KEEP) {
        return Future.<Void>succeededFuture();
      }
      LOG.warn("vm {}: its create from node {} was never delivered to the client; removing it", id,
          origin.entryNode());
      return bus.request(Addresses.VM_REMOVE, new VmId(id), local).<Void>mapEmpty()
          .compose(v -> outcomes.forget(origin.callId()));
    }).recover(e -> {
      LOG.warn("vm {}: its create from node {} could not be settled ({}); kept", id, origin.entryNode(),
          e.getMessage());
      return Future.succeededFuture();
    });
  }

  // ---- the cluster view and the node record

  private void vmChanged(VmEvent event) {
    recordChanged();
    bus.publishClusterWide(Addresses.CLUSTER_EVENTS, new NodeEvent(node.name(), event));
    if (!VmEvent.STATE.equals(event.type()) && !VmEvent.ADOPTED.equals(event.type())
        && !VmEvent.AGENT_READY.equals(event.type()) && !VmEvent.AGENT_LOST.equals(event.type())) {
      return;
    }
    publishVm(event.id());
  }

  private Future<Void> publishVm(String id) {
    return view.publish(id).onFailure(e -> LOG.debug("cluster: VM {} not published: {}", id, e.getMessage()));
  }

  /** Writes every VM of the table, and removes this node's entries that name none of them. */
  private Future<Void> publishTable() {
    return bus.request(Addresses.VM_LIST, Nothing.INSTANCE, local).compose(list -> {
      Map<String, String> entries = new HashMap<>();
      list.vms().forEach(vm -> entries.put(vm.id(), VmEntry.of(vm, node.name(), node.cluster().host()).encode()));
      return node.bounded("publishing the VM table", node.map(ClusterNode.VMS).putAllAsync(entries))
          .compose(v -> node.blocking("listing the cluster view", () -> {
            Set<String> stale = new HashSet<>();
            node.map(ClusterNode.VMS).forEach((id, text) -> {
              if (!entries.containsKey(id) && VmEntry.decode(text).node().equals(node.name())) {
                stale.add(id);
              }
            });
            stale.forEach(id -> node.map(ClusterNode.VMS).delete(id));
            return stale.size();
          }))
          .<Void>map(stale -> {
            if (stale > 0) {
              LOG.info("cluster: removed {} entr(ies) of VMs this node no longer has", stale);
            }
            return null;
          });
    }).onFailure(e -> LOG.warn("cluster: VM table not published: {}", e.getMessage()));
  }

  /** A record change is written at most once per 200 ms, however many transitions come. */
  private void recordChanged() {
    if (recordTimer >= 0) {
      recordDue = true;
      return;
    }
    recordTimer = vertx.setTimer(200, t -> {
      recordTimer = -1;
      publishRecord();
      if (recordDue) {
        recordDue = false;
        recordChanged();
      }
    });
  }

  /**
   * Writes this node's record after the write before it, so that a write begun earlier (a periodic one, its state
   * read before a drain changed it) never lands after a later one.
   */
  private Future<Void> publishRecord() {
    recordWritten = recordWritten.transform(ar -> writeRecord());
    return recordWritten;
  }

  private Future<Void> writeRecord() {
    if (stopping && !NodeRecord.DRAINING.equals(state)) {
      return Future.succeededFuture();
    }
    Future<io.cvmmanager.resources.HostView> host = bus.request(Addresses.HOST_GET, Nothing.INSTANCE, local);
    Future<VmList> vms = bus.request(Addresses.VM_LIST, Nothing.INSTANCE, local);
    return Future.all(host, vms).compose(both -> {
      int count = vms.result().vms().size();
      NodeRecord record = new NodeRecord(node.name(), node.cluster().host() + ":" + config.grpc().port(),
          node.cluster().host() + ":" + config.http().port(), node.cluster().host(), tee, host.result(),
          count, config.maxVms(), state, Instant.now());
      if (drained && count == 0 && !saidStoppable) {
        saidStoppable = true;
        LOG.info("cluster: node {} is drained and has no VM left: it can be stopped", node.name());
      }
      return node.bounded("publishing this node's record", node.map(ClusterNode.NODES)
          .setAsync(node.name(), record.toJson().encode())).<Void>mapEmpty();
    }).onFailure(e -> LOG.debug("cluster: node record not published: {}", e.getMessage()));
  }

  // ---- drain

  private java.nio.file.Path drainFile() {
    return config.stateDir().resolve(DRAIN_FILE);
  }

  /** Drains this node (no new placements; its VMs run on) or takes it back, durably, then says so in its record. */
  private Future<Nothing> drain(Drain request) {
    String file = drainFile().toString();
    Future<Void> kept = request.drain()
        ? vertx.fileSystem().writeFile(file, io.vertx.core.buffer.Buffer.buffer(Instant.now() + "\n"))
        : vertx.fileSystem().delete(file).otherwiseEmpty();
    return kept.compose(v -> {
      if (drained != request.drain()) {
        LOG.info("cluster: node {} {}", node.name(), request.drain()
            ? "drained: no new VMs are placed here; its VMs run on" : "undrained: it takes new VMs again");
      }
      drained = request.drain();
      saidStoppable = false;
      if (!stopping) {
        state = drained ? NodeRecord.DRAINING : NodeRecord.READY;
      }
      return publishRecord();
    }).map(Nothing.INSTANCE);
  }

  // ---- serving other nodes

  private Future<Void> serveOthers() {
    List<Future<?>> registered = new ArrayList<>();
    registered.add(forward(Addresses.VM_CREATE, this::createHere));
    registered.add(forward(Addresses.VM_CREATE_ABANDON, null));
    registered.add(forward(Addresses.VM_REMOVE, null));
    registered.add(forward(Addresses.VM_GET, null));
    registered.add(forward(Addresses.ATTESTATION_POLICY, null));
    registered.add(forward(Addresses.EVENT_HISTORY, null));
    registered.add(forward(Addresses.NODE_DRAIN, null));
    registered.add(forward(Addresses.LOG_FOLLOW, request -> logFollowers.follow(request.message())));
    registered.add(forward(Addresses.LOG_UNFOLLOW, request -> {
      logFollowers.unfollow(request.message().address());
      return Future.succeededFuture(Nothing.INSTANCE);
    }));
    // A ping from a node not trusted yet (one that just started) is answered, and returned at once.
    registered.add(bus.serveClusterWide(Addresses.NODE_PING.onNode(node.name()), (ping, headers) -> {
      String from = headers.get(FROM_NODE);
      if (from != null && node.isMember(from) && !node.isTrusted(from)) {
        vertx.runOnContext(v -> ping(from));
      }
      return Future.succeededFuture(Nothing.INSTANCE);
    }).onSuccess(endpoints::add));
    return Future.all(registered).mapEmpty();
  }

  /**
   * Serves {@code address} for the other nodes at {@code address.onNode(this node)}, by asking this node's owner of
   * it; {@code special} answers instead when given.
   */
  private <Q extends BusMessage, R extends BusMessage> Future<?> forward(Address<Q, R> address,
      Function<Forwarded<Q>, Future<R>> special) {
    return bus.<Q, R>serveClusterWide(address.onNode(node.name()), (message, headers) -> {
      Forwarded<Q> forwarded = new Forwarded<>(message, headers);
      return special != null ? special.apply(forwarded)
          : bus.request(address, message, forwarded.options(local));
    }).onSuccess(endpoints::add);
  }

  /** A request from another node, with the headers (trace context) it came with. */
  private record Forwarded<Q>(Q message, MultiMap headers) {
    DeliveryOptions options(DeliveryOptions base) {
      DeliveryOptions options = new DeliveryOptions(base);
      headers.forEach(options::addHeader);
      return options;
    }
  }

  /**
   * A CreateVm another node placed here: made by the launcher as any create, and in the cluster view before the
   * entry node gets its id, so that any node finds it at once.
   */
  private Future<VmCreated> createHere(Forwarded<CreateVm> request) {
    if (request.message().origin().isEmpty()) {
      return Future.failedFuture(new ManagerException(ErrorKind.INVALID_ARGUMENT,
          "a CreateVm from another node must name its entry node and call"));
    }
    CreateOrigin origin = request.message().origin().get();
    return bus.request(Addresses.VM_CREATE, request.message(), request.options(local))
        .compose(created -> publishVm(created.id()).otherwiseEmpty().map(created))
        .onSuccess(created -> {
          // Its entry node left while it was being made: no client can get its id; settled as any of that node's.
          if (!node.isMember(origin.entryNode())) {
            settle(created.id(), origin);
          }
        });
  }

  // ---- other nodes: trust and departure

  /** Every node with a record or membership, with whether it is trusted and what was flagged about it. */
  private Future<NodeList> nodes() {
    return node.blocking("reading the node records, flags and view", () -> {
      Map<String, Integer> owners = new HashMap<>();
      node.map(ClusterNode.VMS).values().forEach(text -> owners.merge(VmEntry.decode(text).node(), 1, Integer::sum));
      return Map.<String, Map<String, ?>>of("records", Map.copyOf(node.map(ClusterNode.NODES)),
          "flags", Map.copyOf(node.map(ClusterNode.FLAGS)), "owners", owners);
    })
        .map(maps -> {
          @SuppressWarnings("unchecked")
          Map<String, String> records = (Map<String, String>) maps.get("records");
          @SuppressWarnings("unchecked")
          Map<String, String> flags = (Map<String, String>) maps.get("flags");
          @SuppressWarnings("unchecked")
          Map<String, Integer> owners = (Map<String, Integer>) maps.get("owners");
          // A node that left keeps its VMs in the view: it is listed, lost, with them.
          Set<String> names = new java.util.TreeSet<>(records.keySet());
          names.addAll(node.memberNames());
          names.addAll(owners.keySet());
          List<NodeList.Node> nodes = new ArrayList<>();
          for (String name : names) {
            List<String> about = flags.entrySet().stream().filter(f -> f.getKey().endsWith("/" + name))
                .map(f -> f.getKey().substring(0, f.getKey().indexOf('/')) + ": " + f.getValue()).sorted().toList();
            String record = records.get(name);
            nodes.add(new NodeList.Node(name, node.isMember(name), node.isTrusted(name), about,
                record == null ? new JsonObject() : new JsonObject(record), owners.getOrDefault(name, 0)));
          }
          return new NodeList(node.name(), nodes);
        });
  }

  private void checkTrust() {
    for (String member : node.memberNames()) {
      if (!member.equals(node.name()) && !node.isTrusted(member)) {
        ping(member);
      }
    }
  }

  /**
   * Asks {@code other} for a ping over the event bus. An answer means its certificate is from our CA (both ends
   * check) and it serves; a node that never answers is never placed on or routed to, and is flagged.
   */
  private void ping(String other) {
    bus.requestClusterWide(Addresses.NODE_PING.onNode(other), Nothing.INSTANCE,
        new DeliveryOptions().setSendTimeout(PING_TIMEOUT.toMillis()).addHeader(FROM_NODE, node.name()))
        .onComplete(ar -> {
          String flag = node.name() + "/" + other;
          if (ar.succeeded()) {
            if (!node.isTrusted(other)) {
              LOG.info("cluster: node {} answered over the event bus: trusted", other);
            }
            node.trust(other, true);
            unanswered.remove(other);
            node.bounded("clearing a flag", node.map(ClusterNode.FLAGS).removeAsync(flag));
            return;
          }
          node.trust(other, false);
          if (ar.cause() instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS) {
            // Not serving yet (still adopting its VMs): it pings this node once it does.
            return;
          }
          int times = unanswered.merge(other, 1, Integer::sum);
          // A node starting up serves only after its adoption: a few misses are expected.
          if (times == 2 && node.isMember(other)) {
            String reason = "no answer over the event bus (" + ar.cause().getMessage() + "): its certificate is not"
                + " from this cluster's CA, or its event bus is unreachable; it gets no work";
            LOG.warn("cluster: node {}: {}", other, reason);
            node.bounded("flagging a node", node.map(ClusterNode.FLAGS).setAsync(flag, reason));
          }
        });
  }

  private void nodeLeft(String left) {
    unanswered.remove(left);
    logFollowers.nodeLeft(left);
    if (stopping) {
      return;
    }
    node.bounded("removing a departed node's record", node.map(ClusterNode.NODES).removeAsync(left));
    settleAll(left::equals);
  }
}
