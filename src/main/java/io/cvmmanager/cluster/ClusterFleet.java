package io.cvmmanager.cluster;

import io.cvmmanager.api.Fleet;
import io.cvmmanager.bus.Address;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.bus.Messages.AbandonCreate;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.Drain;
import io.cvmmanager.bus.Messages.EventList;
import io.cvmmanager.bus.Messages.LogFollow;
import io.cvmmanager.bus.Messages.LogUnfollow;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.RelayOpen;
import io.cvmmanager.bus.Messages.Relays;
import io.cvmmanager.bus.Messages.VmCreated;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.CreateOrigin;
import io.cvmmanager.vm.NodeEvent;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmLogLine;
import io.cvmmanager.vm.VmSize;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's {@link Fleet} in clustered mode. A CreateVm is placed ({@link NodePlacement}) on the nodes that fit,
 * best first, each owner admitting or refusing with its own accounts; a create placed elsewhere is recorded in
 * {@link CreateOutcomes} and, with MANAGER_CLUSTER_RELAY_PORTS, its agent port is relayed from here. A per-VM call
 * goes to the VM's owner as the cluster view names it: this node's own verticles, or the owner's node-named
 * addresses; an id no node has is NOT_FOUND, one whose owner is lost UNAVAILABLE naming the node. A request pending
 * on a node that leaves fails at once (UNAVAILABLE), not at its timeout. Lives on the API verticle's event loop.
 */
public final class ClusterFleet implements Fleet {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterFleet.class);

  private final ClusterNode node;
  private final Bus bus;
  private final Tee tee;
  private final CreateOutcomes outcomes;
  private final ViewWriter view;
  /** The creates under way or made, by the API's call id, until confirmed or abandoned. */
  private final Map<String, Attempt> attempts = new HashMap<>();
  /** Consoles followed on another node, by node: ended (with a line saying so) when it leaves. */
  private final Map<String, Map<String, Runnable>> logStreams = new HashMap<>();
  /** Requests waiting on another node, by node: failed when it leaves. */
  private final Map<String, Set<Promise<?>>> pending = new HashMap<>();

  /** Where a create went: this node or {@code owner}, under the call id {@code attemptId} there. */
  private static final class Attempt {
    final String owner;
    final String attemptId;
    final boolean remote;
    boolean abandoned;
    String vmId;

    Attempt(String owner, String attemptId, boolean remote) {
      this.owner = owner;
      this.attemptId = attemptId;
      this.remote = remote;
    }
  }

  /** Made on the API verticle's context, whose event loop it then runs on. */
  public ClusterFleet(ClusterNode node, Bus bus, Tee tee) {
    this.node = node;
    this.bus = bus;
    this.tee = tee;
    this.outcomes = new CreateOutcomes(node);
    this.view = new ViewWriter(node, bus);
    Context context = node.vertx().getOrCreateContext();
    node.onNodeLeft(left -> context.runOnContext(v -> failPending(left)));
  }

  // ---- CreateVm

  @Override
  public Future<Placed> create(CreateVm create, DeliveryOptions options) {
    String callId = create.callId();
    NodePlacement.Need need = need(create.request().size());
    return nodeRecords().compose(records -> {
      List<NodePlacement.Candidate> candidates = records.stream()
          .map(r -> new NodePlacement.Candidate(r, node.isTrusted(r.name()))).toList();
      List<String> shortages = new ArrayList<>();
      List<String> order = NodePlacement.order(candidates, need, node.cluster().placement(), node.name(),
          shortages);
      return tryNodes(create, order, 0, shortages, options);
    }).onFailure(e -> attempts.remove(callId));
  }

  /** Asks {@code order[index]}, and on a refusal for want of resources (or its loss) the next one. */
  private Future<Placed> tryNodes(CreateVm create, List<String> order, int index, List<String> shortages,
      DeliveryOptions options) {
    if (index >= order.size()) {
      return Future.failedFuture(new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, "no node of the cluster fits"
          + " this VM: " + (shortages.isEmpty() ? "no node is ready" : String.join("; ", shortages))));
    }
    Attempt previous = attempts.get(create.callId());
    if (previous != null && previous.abandoned) {
      return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "the CreateVm was abandoned"));
    }
    String owner = order.get(index);
    return createOn(owner, create, options).recover(error -> {
      ErrorKind kind = error instanceof ManagerException m ? m.kind() : ErrorKind.UNAVAILABLE;
      if (kind == ErrorKind.RESOURCE_EXHAUSTED || kind == ErrorKind.UNAVAILABLE) {
        LOG.info("CreateVm {}: node {} refused ({}); trying the next", create.callId(), owner, error.getMessage());
        shortages.add(owner + ": " + error.getMessage());
        return tryNodes(create, order, index + 1, shortages, options);
      }
      return Future.failedFuture(error);
    });
  }

  private Future<Placed> createOn(String owner, CreateVm create, DeliveryOptions options) {
    String callId = create.callId();
    if (owner.equals(node.name())) {
      attempts.put(callId, new Attempt(owner, callId, false));
      return bus.request(Addresses.VM_CREATE, create, options)
          .compose(c -> view.publish(c.id()).otherwiseEmpty().map(new Placed(c.id(), c.port())));
    }
    // A distinct call id per owner tried: each attempt's outcome is settled on its own.
    String attemptId = callId + "@" + owner;
    Attempt attempt = new Attempt(owner, attemptId, true);
    attempts.put(callId, attempt);
    CreateVm placed = new CreateVm(create.request(), attemptId,
        Optional.of(new CreateOrigin(node.name(), attemptId)));
    return outcomes.begin(attemptId, owner)
        .compose(v -> remote(owner, Addresses.VM_CREATE.onNode(owner), placed, options))
        .compose(created -> {
          attempt.vmId = created.id();
          return relay(owner, created).map(port -> new Placed(created.id(), port));
        })
        .recover(error -> outcomes.fail(attemptId, owner).otherwiseEmpty()
            .compose(v -> attempt.vmId != null || isLoss(error)
                ? abandonOn(attempt).otherwiseEmpty() : Future.succeededFuture())
            .transform(ar -> Future.failedFuture(error)));
  }

  /** The port the client reaches the agent at from here: a relay to the owner's, or the owner's own. */
  private Future<Integer> relay(String owner, VmCreated created) {
    if (!node.cluster().relayPorts()) {
      return Future.succeededFuture(created.port());
    }
    return ownerHost(owner).compose(host -> bus.request(Addresses.RELAY_OPEN,
        new RelayOpen(created.id(), host, created.port()), new DeliveryOptions().setSendTimeout(10_000)))
        .map(port -> port.port());
  }

  @Override
  public Future<Void> confirm(String callId) {
    Attempt attempt = attempts.get(callId);
    if (attempt == null || !attempt.remote) {
      attempts.remove(callId);
      return Future.succeededFuture();
    }
    return outcomes.deliver(attempt.attemptId, attempt.owner).compose(delivered -> {
      if (!delivered) {
        return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "node " + attempt.owner
            + " was lost during the create, which is undone"));
      }
      attempts.remove(callId);
      return Future.<Void>succeededFuture();
    });
  }

  @Override
  public Future<Void> abandon(String callId, DeliveryOptions options) {
    Attempt attempt = attempts.remove(callId);
    if (attempt == null || !attempt.remote) {
      return bus.request(Addresses.VM_CREATE_ABANDON, new AbandonCreate(callId), options).mapEmpty();
    }
    attempt.abandoned = true;
    attempts.put(callId, attempt);
    return outcomes.fail(attempt.attemptId, attempt.owner).otherwiseEmpty()
        .compose(v -> abandonOn(attempt).otherwiseEmpty())
        .onComplete(ar -> attempts.remove(callId));
  }

  /** The owner cuts the attempt short or removes its VM; the relay here goes with it. */
  private Future<Void> abandonOn(Attempt attempt) {
    Future<Void> closed = attempt.vmId == null ? Future.succeededFuture()
        : bus.request(Addresses.RELAY_CLOSE, new VmId(attempt.vmId), new DeliveryOptions().setSendTimeout(5000))
            .mapEmpty();
    if (!node.isMember(attempt.owner)) {
      // Gone: it settles the create as failed itself when it returns.
      return closed;
    }
    return closed.transform(ar -> remote(attempt.owner, Addresses.VM_CREATE_ABANDON.onNode(attempt.owner),
        new AbandonCreate(attempt.attemptId), new DeliveryOptions().setSendTimeout(30_000)).mapEmpty());
  }

  /** What the VM needs as this node sizes it; the owner checks the sizes themselves. */
  private NodePlacement.Need need(VmSize size) {
    QemuConfig qemu = node.config().qemu();
    long memory = qemu.memory().sizeBytes();
    if (size.memory().isPresent()) {
      long asked = QemuConfig.Memory.bytesOf(size.memory().get());
      memory = asked > 0 ? asked : memory;
    }
    int vcpus = (int) Math.min(Integer.MAX_VALUE, size.vcpus().orElse(qemu.smp().count()));
    boolean gpu = qemu.gpu().devices().enabled() && !size.gpu().orElse(VmSize.ANY_GPU).equals(VmSize.NO_GPU);
    return new NodePlacement.Need(memory, vcpus, tee, gpu);
  }

  /** The records of the nodes that are members now. */
  private Future<List<NodeRecord>> nodeRecords() {
    return node.blocking("reading the node records", () -> List.copyOf(node.map(ClusterNode.NODES).values()))
        .map(texts -> texts.stream().map(text -> NodeRecord.fromJson(new JsonObject(text)))
            .filter(r -> node.isMember(r.name())).toList());
  }

  private Future<String> ownerHost(String owner) {
    return node.bounded("reading node " + owner + "'s record", node.map(ClusterNode.NODES).getAsync(owner))
        .compose(text -> text == null
            ? Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "node " + owner + " has no record"))
            : Future.succeededFuture(NodeRecord.fromJson(new JsonObject(text)).host()));
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
      return remote(name, Addresses.NODE_DRAIN.onNode(name), new Drain(drain), options).mapEmpty();
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
          : remote(member, Addresses.EVENT_HISTORY.onNode(member), Nothing.INSTANCE, options);
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
      return reachable(id, owner).compose(o -> remote(o, Addresses.LOG_FOLLOW.onNode(o),
          new LogFollow(id, tail, follow, address, node.name()), new DeliveryOptions().setSendTimeout(10_000)));
    }).map(answer -> new Following(answer.lines(), stop)).onFailure(e -> stop.run());
  }

  @Override
  public <Q extends BusMessage, R extends BusMessage> Future<R> toOwner(String id, Address<Q, R> address, Q message,
      DeliveryOptions options) {
    return entry(id).compose(entry -> {
      if (entry.isEmpty() || entry.get().node().equals(node.name())) {
        return bus.request(address, message, options);
      }
      return reachable(id, entry.get().node())
          .compose(owner -> remote(owner, address.onNode(owner), message, options));
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
      return reachable(id, owner)
          .compose(o -> remote(o, Addresses.VM_GET.onNode(o), new VmId(id), options))
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

  /** {@code owner}, if it is a trusted member now; else UNAVAILABLE naming it. */
  private Future<String> reachable(String id, String owner) {
    if (!node.isMember(owner)) {
      return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "VM " + ClientText.quote(id)
          + " is on node " + owner + ", which is not reachable (it left the cluster)"));
    }
    if (!node.isTrusted(owner)) {
      return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "VM " + ClientText.quote(id)
          + " is on node " + owner + ", which has not answered over the event bus (not trusted)"));
    }
    return Future.succeededFuture(owner);
  }

  /** A request to {@code owner}'s node-named address, failed at once if that node leaves meanwhile. */
  private <Q extends BusMessage, R extends BusMessage> Future<R> remote(String owner, Address<Q, R> address,
      Q message, DeliveryOptions options) {
    if (!node.isMember(owner)) {
      return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "node " + owner + " is not reachable"));
    }
    Promise<R> answer = Promise.promise();
    Set<Promise<?>> waiting = pending.computeIfAbsent(owner, k -> new HashSet<>());
    waiting.add(answer);
    bus.requestClusterWide(address, message, options).onComplete(ar -> {
      if (ar.succeeded()) {
        answer.tryComplete(ar.result());
      } else {
        answer.tryFail(unreachable(owner, ar.cause()));
      }
    });
    return answer.future().andThen(ar -> {
      Set<Promise<?>> now = pending.get(owner);
      if (now != null) {
        now.remove(answer);
        if (now.isEmpty()) {
          pending.remove(owner);
        }
      }
    });
  }

  /** A bus failure as the client sees it: the owner's own error as it is, a lost or silent node UNAVAILABLE. */
  private static Throwable unreachable(String owner, Throwable error) {
    if (error instanceof ReplyException reply && reply.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
      return new ManagerException(ErrorKind.UNAVAILABLE, "node " + owner + " did not answer ("
          + (reply.failureType() == ReplyFailure.TIMEOUT ? "timed out" : "not serving") + ")");
    }
    return error;
  }

  private static boolean isLoss(Throwable error) {
    return error instanceof ManagerException m && m.kind() == ErrorKind.UNAVAILABLE;
  }

  private void failPending(String left) {
    Map<String, Runnable> streams = logStreams.remove(left);
    if (streams != null) {
      List.copyOf(streams.values()).forEach(Runnable::run);
    }
    Set<Promise<?>> waiting = pending.remove(left);
    if (waiting == null) {
      return;
    }
    LOG.warn("cluster: node {} left; {} call(s) waiting on it fail", left, waiting.size());
    for (Promise<?> promise : List.copyOf(waiting)) {
      promise.tryFail(new ManagerException(ErrorKind.UNAVAILABLE, "node " + left
          + " left the cluster before it answered"));
    }
  }
}
