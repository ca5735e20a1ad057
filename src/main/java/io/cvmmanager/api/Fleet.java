package io.cvmmanager.api;

import io.cvmmanager.bus.Address;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.bus.Messages.AbandonCreate;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.cluster.NodeList;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.NodeEvent;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmLogLine;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.List;
import java.util.function.Consumer;

/**
 * The managers the API's calls reach: this one alone ({@link #single}), or every node of the cluster (the cluster
 * package's). The API asks here for everything that concerns a VM, so that a call reads the same whichever node owns
 * the VM: a create placed somewhere, a per-VM call sent to the VM's owner, a list of every VM.
 */
public interface Fleet {
  /** A created VM as its client is told: its id and the port its agent is reached at from the called manager. */
  record Placed(String id, int port) {}

  /**
   * One VM of a list, with where it is: its owner {@code node} and {@code host} (empty on a single host), this
   * node's relay to its agent port (0: none), and whether its owner is reachable now.
   */
  record Listed(VmView view, String node, String host, int relayPort, boolean reachable) {}

  /** A console followed on another node: its last lines, and how to stop following it. */
  record Following(List<String> tail, Runnable stop) {}

  /** This node's name in the cluster; empty on a single host. */
  String nodeName();

  /**
   * Follows the console of {@code vm}, which another node owns: its last {@code tail} lines, then with
   * {@code follow} each new line to {@code onLine} until {@code onEnd} gets the line saying why it ended (the VM
   * ended, or its owner was lost), unless {@link Following#stop} ends it first.
   */
  Future<Following> followLogs(Listed vm, int tail, boolean follow, Consumer<VmLogLine> onLine,
      Consumer<String> onEnd);

  /**
   * Every lifecycle event from now on, of every node, to {@code onEvent}; the future completes once the
   * subscription is in place (so that nothing after it is missed), with what ends it.
   */
  Future<Runnable> watchEvents(Consumer<NodeEvent> onEvent);

  /** The events each node keeps of its run, oldest first, with their node. */
  Future<List<NodeEvent>> eventHistory(DeliveryOptions options);

  /** Every node, as this one sees it; FAILED_PRECONDITION on a single host. */
  Future<NodeList> nodes(DeliveryOptions options);

  /** Drains node {@code name} ({@code drain}) or takes it back; FAILED_PRECONDITION on a single host. */
  Future<Void> drain(String name, boolean drain, DeliveryOptions options);

  /** Creates the VM of {@code create} where it fits. */
  Future<Placed> create(CreateVm create, DeliveryOptions options);

  /**
   * Called once the create succeeded, just before its id is written to the client: a failure means the create was
   * settled as failed meanwhile (its owner was lost), and the client is answered that instead.
   */
  Future<Void> confirm(String callId);

  /** The create named {@code callId} did not reach its client: cut it short, or remove what it made. */
  Future<Void> abandon(String callId, DeliveryOptions options);

  /** {@code message} to the owner of VM {@code id} at {@code address}'s contract. */
  <Q extends BusMessage, R extends BusMessage> Future<R> toOwner(String id, Address<Q, R> address, Q message,
      DeliveryOptions options);

  /** One VM, with where it is. */
  Future<Listed> get(String id, DeliveryOptions options);

  /** Every VM. */
  Future<List<Listed>> list(DeliveryOptions options);

  /** This manager alone: every call goes to its own verticles. */
  static Fleet single(Bus bus) {
    return new Fleet() {
      @Override
      public Future<Placed> create(CreateVm create, DeliveryOptions options) {
        return bus.request(Addresses.VM_CREATE, create, options).map(c -> new Placed(c.id(), c.port()));
      }

      @Override
      public String nodeName() {
        return "";
      }

      @Override
      public Future<NodeList> nodes(DeliveryOptions options) {
        return Future.failedFuture(notClustered());
      }

      @Override
      public Future<Void> drain(String name, boolean drain, DeliveryOptions options) {
        return Future.failedFuture(notClustered());
      }

      private ManagerException notClustered() {
        return new ManagerException(ErrorKind.FAILED_PRECONDITION, "clustered mode is off"
            + " (MANAGER_CLUSTER_ENABLED=false): this manager is the only node");
      }

      @Override
      public Future<Runnable> watchEvents(Consumer<NodeEvent> onEvent) {
        MessageConsumer<VmEvent> consumer = bus.consume(Addresses.EVENTS,
            event -> onEvent.accept(new NodeEvent("", event)));
        return consumer.completion().map(v -> consumer::unregister);
      }

      @Override
      public Future<List<NodeEvent>> eventHistory(DeliveryOptions options) {
        return bus.request(Addresses.EVENT_HISTORY, Nothing.INSTANCE, options)
            .map(list -> list.events().stream().map(event -> new NodeEvent("", event)).toList());
      }

      @Override
      public Future<Following> followLogs(Listed vm, int tail, boolean follow, Consumer<VmLogLine> onLine,
          Consumer<String> onEnd) {
        return Future.failedFuture(new IllegalStateException("a single host owns every VM it lists"));
      }

      @Override
      public Future<Void> confirm(String callId) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> abandon(String callId, DeliveryOptions options) {
        return bus.request(Addresses.VM_CREATE_ABANDON, new AbandonCreate(callId), options).mapEmpty();
      }

      @Override
      public <Q extends BusMessage, R extends BusMessage> Future<R> toOwner(String id, Address<Q, R> address,
          Q message, DeliveryOptions options) {
        return bus.request(address, message, options);
      }

      @Override
      public Future<Listed> get(String id, DeliveryOptions options) {
        return bus.request(Addresses.VM_GET, new VmId(id), options).map(view -> new Listed(view, "", "", 0, true));
      }

      @Override
      public Future<List<Listed>> list(DeliveryOptions options) {
        return bus.request(Addresses.VM_LIST, Nothing.INSTANCE, options).map(VmList::vms)
            .map(views -> views.stream().map(view -> new Listed(view, "", "", 0, true)).toList());
      }
    };
  }
}
