package io.cvmmanager.cluster;

import io.cvmmanager.bus.Address;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Requests to other nodes' node-named addresses, for the API's calls: each fails at once (UNAVAILABLE, naming the
 * node) when its node leaves, instead of at its timeout; a silent or absent node's bus failure is UNAVAILABLE, the
 * owner's own error comes back as it is. Lives on the API verticle's event loop.
 */
final class NodeCalls {
  private static final Logger LOG = LoggerFactory.getLogger(NodeCalls.class);

  private final ClusterNode node;
  private final Bus bus;
  /** Requests waiting on another node, by node: failed when it leaves. */
  private final Map<String, Set<Promise<?>>> pending = new HashMap<>();

  /** Made on the API verticle's context. */
  NodeCalls(ClusterNode node, Bus bus) {
    this.node = node;
    this.bus = bus;
    Context context = node.vertx().getOrCreateContext();
    node.onNodeLeft(left -> context.runOnContext(v -> failPending(left)));
  }

  /** {@code owner}, if it is a trusted member now; else UNAVAILABLE naming it. */
  Future<String> reachable(String id, String owner) {
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
  <Q extends BusMessage, R extends BusMessage> Future<R> remote(String owner, Address<Q, R> address,
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

  static boolean isLoss(Throwable error) {
    return error instanceof ManagerException m && m.kind() == ErrorKind.UNAVAILABLE;
  }

  private void failPending(String left) {
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
