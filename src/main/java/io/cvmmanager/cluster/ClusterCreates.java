package io.cvmmanager.cluster;

import io.cvmmanager.api.Fleet.Placed;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.AbandonCreate;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.RelayOpen;
import io.cvmmanager.bus.Messages.VmCreated;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.CreateOrigin;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmSize;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * CreateVm in clustered mode: placed ({@link NodePlacement}) on the nodes that fit, best first, each owner admitting
 * or refusing with its own accounts; a refusal for want of resources, or the owner's loss, makes it try the next. A
 * create placed elsewhere is recorded in {@link CreateOutcomes}, delivered or failed once, and (with
 * MANAGER_CLUSTER_RELAY_PORTS) its agent port is relayed from here. Lives on the API verticle's event loop.
 */
final class ClusterCreates {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterCreates.class);

  private final ClusterNode node;
  private final Bus bus;
  private final Tee tee;
  private final NodeCalls calls;
  private final CreateOutcomes outcomes;
  private final ViewWriter view;
  /** The creates under way or made, by the API's call id, until confirmed or abandoned. */
  private final Map<String, Attempt> attempts = new HashMap<>();

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


  ClusterCreates(ClusterNode node, Bus bus, Tee tee, NodeCalls calls) {
    this.node = node;
    this.bus = bus;
    this.tee = tee;
    this.calls = calls;
    this.outcomes = new CreateOutcomes(node);
    this.view = new ViewWriter(node, bus);
  }

  Future<Placed> create(CreateVm create, DeliveryOptions options) {
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
        .compose(v -> calls.remote(owner, Addresses.VM_CREATE.onNode(owner), placed, options))
        .compose(created -> {
          attempt.vmId = created.id();
          return relay(owner, created).map(port -> new Placed(created.id(), port));
        })
        .recover(error -> outcomes.fail(attemptId, owner).otherwiseEmpty()
            .compose(v -> attempt.vmId != null || NodeCalls.isLoss(error)
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

  Future<Void> confirm(String callId) {
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

  Future<Void> abandon(String callId, DeliveryOptions options) {
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
    return closed.transform(ar -> calls.remote(attempt.owner,
        Addresses.VM_CREATE_ABANDON.onNode(attempt.owner),
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
}
