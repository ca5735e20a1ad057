package io.cvmmanager.cluster;

import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outcome of each CreateVm that one node (the entry) placed on another (the owner), in {@code cvm.creates}, so
 * that the VM exists afterwards if and only if its client received its id, whichever of the two dies when. Each
 * create's outcome is decided once, by compare-and-set from {@code pending}: the entry node sets {@code delivered}
 * before it writes the id to its client (and, losing, answers UNAVAILABLE instead), or {@code failed} when the owner
 * is lost or the client is; the owner, returning or seeing the entry node leave, sets {@code failed} on what is still
 * pending and removes the VMs of failed creates before it serves again.
 */
public final class CreateOutcomes {
  /** How long an outcome is kept: long past any create, and any outage an owner comes back from with its VMs. */
  static final long KEEP_HOURS = 24 * 7;
  private static final Logger LOG = LoggerFactory.getLogger(CreateOutcomes.class);

  /** What the owner does with a VM of a cross-node create. */
  public enum Settled { KEEP, REMOVE }

  private final ClusterNode node;

  public CreateOutcomes(ClusterNode node) {
    this.node = node;
  }

  private IMap<String, String> map() {
    return node.map(ClusterNode.CREATES);
  }

  private static String value(String outcome, String entry, String owner) {
    return outcome + "|" + entry + "|" + owner;
  }

  /** Entry node, before asking {@code owner}: the create is pending. */
  public Future<Void> begin(String callId, String owner) {
    return node.bounded("recording create " + callId, map().setAsync(callId, value("pending", node.name(), owner),
        KEEP_HOURS, TimeUnit.HOURS)).mapEmpty();
  }

  /** Entry node, before writing the id: true if the create is now delivered (else the owner settled it failed). */
  public Future<Boolean> deliver(String callId, String owner) {
    return node.blocking("delivering create " + callId, () -> map().replace(callId,
        value("pending", node.name(), owner), value("delivered", node.name(), owner)));
  }

  /** Entry node, when its client will not get the id: true unless it was delivered already. */
  public Future<Boolean> fail(String callId, String owner) {
    return node.blocking("failing create " + callId, () -> {
      map().replace(callId, value("pending", node.name(), owner), value("failed", node.name(), owner));
      String now = map().get(callId);
      return now == null || !now.startsWith("delivered|");
    });
  }

  /**
   * Owner: what to do with the VM of create {@code callId} from {@code entry}. Pending becomes failed here (the
   * entry node is gone, or this node was, and the reply it waited for can no longer come). Unknown (expired, or lost
   * with a split) keeps the VM: removing a VM whose id a client may hold is the worse mistake.
   */
  public Future<Settled> settle(String callId, String entry) {
    return node.blocking("settling create " + callId, () -> {
      String pending = value("pending", entry, node.name());
      map().replace(callId, pending, value("failed", entry, node.name()));
      String now = map().get(callId);
      if (now == null) {
        LOG.warn("create {} from node {}: no outcome on record; keeping its VM", callId, entry);
        return Settled.KEEP;
      }
      return now.startsWith("failed|") ? Settled.REMOVE : Settled.KEEP;
    });
  }

  /** Owner, once the VM of {@code callId} is gone: its outcome matters no more. */
  public Future<Void> forget(String callId) {
    return node.bounded("forgetting create " + callId, map().removeAsync(callId)).mapEmpty();
  }
}
