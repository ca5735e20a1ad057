package io.cvmmanager.cluster;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * Writes this node's VMs into the cluster view ({@code cvm.vms}), each as its launcher has it now. Used at every
 * transition, and by a create before its id is returned, so that whichever node the client asks next finds it.
 */
final class ViewWriter {
  private final ClusterNode node;
  private final Bus bus;
  private final DeliveryOptions local;

  ViewWriter(ClusterNode node, Bus bus) {
    this.node = node;
    this.bus = bus;
    this.local = new DeliveryOptions().setSendTimeout(node.config().grpcTimeout().toMillis());
  }

  /** Writes VM {@code id}'s entry, or removes it when the launcher has it no more. */
  Future<Void> publish(String id) {
    return bus.request(Addresses.VM_GET, new VmId(id), local)
        .compose(view -> node.bounded("publishing VM " + id, node.map(ClusterNode.VMS)
            .setAsync(id, VmEntry.of(view, node.name(), node.cluster().host()).encode())).<Void>mapEmpty())
        .recover(e -> e instanceof ManagerException m && m.kind() == ErrorKind.NOT_FOUND
            ? node.bounded("unpublishing VM " + id, node.map(ClusterNode.VMS).removeAsync(id)).<Void>mapEmpty()
            : Future.failedFuture(e));
  }
}
