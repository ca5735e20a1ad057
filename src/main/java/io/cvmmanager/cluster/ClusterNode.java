package io.cvmmanager.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import io.cvmmanager.config.ClusterConfig;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node in the cluster, shared by the cluster verticle and the API (so thread-safe): its name and settings, the
 * cluster maps, which nodes are members now and which of them answered over the event bus (trusted), and what runs
 * when a node leaves or the cluster merges after a split. Every map call goes through {@link #bounded}: a call that
 * touches a frozen member's partitions blocks until that member is removed, which must not hold a caller longer
 * than {@link #CALL_TIMEOUT}.
 */
public final class ClusterNode {
  /** The longest any cluster-map call may take before its caller is answered UNAVAILABLE. */
  public static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  /** Node records: name → {@link NodeRecord} JSON. */
  public static final String NODES = "cvm.nodes";
  /** The cluster view of VMs: id → {@link VmEntry} JSON. The owners' tables are the truth; this is a cache. */
  public static final String VMS = "cvm.vms";
  /** Each cross-node create's outcome: call id → {@link CreateOutcomes} JSON. */
  public static final String CREATES = "cvm.creates";
  /** What nodes found out about each other: "checker/checked" → reason a node is not trusted. */
  public static final String FLAGS = "cvm.node-flags";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

  private final Vertx vertx;
  private final ClusterConfig cluster;
  private final ManagerConfig config;
  private final HazelcastInstance hazelcast;
  /** Member UUID → node name, of the members now. */
  private final Map<UUID, String> members = new ConcurrentHashMap<>();
  private final Set<String> trusted = ConcurrentHashMap.newKeySet();
  private final CopyOnWriteArrayList<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  private final CopyOnWriteArrayList<Consumer<String>> joinedListeners = new CopyOnWriteArrayList<>();
  private final CopyOnWriteArrayList<Runnable> mergedListeners = new CopyOnWriteArrayList<>();

  ClusterNode(Vertx vertx, ClusterConfig cluster, ManagerConfig config, HazelcastInstance hazelcast) {
    this.vertx = vertx;
    this.cluster = cluster;
    this.config = config;
    this.hazelcast = hazelcast;
    hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        joined(event.getMember());
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        left(event.getMember());
      }
    });
    hazelcast.getCluster().getMembers().forEach(this::joined);
    hazelcast.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
        LOG.info("cluster: merged after a split; re-publishing this node's records");
        mergedListeners.forEach(Runnable::run);
      }
    });
  }

  public Vertx vertx() {
    return vertx;
  }

  public ClusterConfig cluster() {
    return cluster;
  }

  public ManagerConfig config() {
    return config;
  }

  public String name() {
    return cluster.nodeName();
  }

  /** The node names of the members now, this one included. */
  public Set<String> memberNames() {
    return Set.copyOf(members.values());
  }

  public boolean isMember(String node) {
    return members.containsValue(node);
  }

  /** A member that answered this node over the event bus: its certificate is from our CA and it is serving. */
  public boolean isTrusted(String node) {
    return node.equals(name()) || (trusted.contains(node) && isMember(node));
  }

  void trust(String node, boolean answered) {
    if (answered) {
      trusted.add(node);
    } else {
      trusted.remove(node);
    }
  }

  /** {@code listener} gets each departed node's name, on a Hazelcast thread. */
  public void onNodeLeft(Consumer<String> listener) {
    leftListeners.add(listener);
  }

  /** {@code listener} gets each new member's node name, on a Hazelcast thread. */
  public void onNodeJoined(Consumer<String> listener) {
    joinedListeners.add(listener);
  }

  /** {@code listener} runs when this node merges back after a split, on a Hazelcast thread. */
  public void onMerged(Runnable listener) {
    mergedListeners.add(listener);
  }

  private void joined(Member member) {
    String node = member.getAttribute(ClusterStart.NODE_ATTRIBUTE);
    if (node == null) {
      LOG.warn("cluster: member {} has no node name: not a cvm-manager; ignored", member.getAddress());
      return;
    }
    if (members.put(member.getUuid(), node) == null && !member.localMember()) {
      LOG.info("cluster: node {} joined ({})", node, member.getAddress());
      joinedListeners.forEach(listener -> listener.accept(node));
    }
  }

  private void left(Member member) {
    String node = members.remove(member.getUuid());
    if (node == null || members.containsValue(node)) {
      return;
    }
    trusted.remove(node);
    LOG.warn("cluster: node {} left ({}); its VMs are UNREACHABLE until it returns", node, member.getAddress());
    leftListeners.forEach(listener -> listener.accept(node));
  }

  public IMap<String, String> map(String name) {
    return hazelcast.getMap(name);
  }

  /** A Hazelcast async call as a future of the caller's context, failed UNAVAILABLE after {@link #CALL_TIMEOUT}. */
  public <T> Future<T> bounded(String what, CompletionStage<T> call) {
    return guard(what, Future.fromCompletionStage(call, vertx.getOrCreateContext()));
  }

  /** A blocking Hazelcast call (a map's values, a compare-and-set) on a worker, bounded as {@link #bounded}. */
  public <T> Future<T> blocking(String what, Callable<T> call) {
    return guard(what, vertx.executeBlocking(call, false));
  }

  private <T> Future<T> guard(String what, Future<T> call) {
    return call.timeout(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, "cluster: " + what
            + " did not complete (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
            + ")")));
  }
}
