package io.cvmmanager.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.HazelcastInstance;
import io.cvmmanager.config.ClusterConfig;
import io.cvmmanager.config.InvalidConfigException;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.metrics.ManagerMetrics;
import io.vertx.core.Future;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a clustered Vert.x on Hazelcast for MANAGER_CLUSTER_*: TCP-IP join to the listed members only (no multicast,
 * no auto-detection, no phone-home), bound to MANAGER_CLUSTER_HOST alone, with the heartbeat as configured, and the
 * event bus on its own port, with mutual TLS unless MANAGER_CLUSTER_INSECURE. The only class of this package that
 * the manager touches when clustering is off is none: {@code Main} calls here only when it is on.
 */
public final class ClusterStart {
  /** The Hazelcast member attribute that names the node, so that a departed member is known by its name. */
  public static final String NODE_ATTRIBUTE = "cvm.node";
  private static final Logger LOG = LoggerFactory.getLogger(ClusterStart.class);

  private ClusterStart() {}

  /** The node's name: MANAGER_NODE_NAME, or this host's name. */
  public static ClusterConfig named(ClusterConfig cluster) throws InvalidConfigException {
    if (!cluster.nodeName().isEmpty()) {
      return cluster;
    }
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT);
    } catch (java.io.IOException e) {
      throw new InvalidConfigException(List.of("MANAGER_NODE_NAME: unset, and the host name cannot be read ("
          + e.getMessage() + ")"));
    }
    int dot = host.indexOf('.');
    String shortName = dot > 0 ? host.substring(0, dot) : host;
    if (!ClusterConfig.isNodeName(shortName)) {
      throw new InvalidConfigException(List.of("MANAGER_NODE_NAME: unset, and the host name \"" + shortName
          + "\" is not a node name: set it"));
    }
    return cluster.withNodeName(shortName);
  }

  /**
   * A clustered Vert.x with {@code metrics}, joined; fails with {@link InvalidConfigException} when another member
   * already has this node's name.
   */
  public static Future<ClusterNode> start(ManagerConfig config, ManagerMetrics metrics) {
    ClusterConfig cluster = config.cluster();
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast(cluster));
    VertxOptions options = new VertxOptions().setEventBusOptions(eventBus(cluster));
    return metrics.vertxBuilder(options).withClusterManager(manager).buildClustered().compose(vertx -> {
      HazelcastInstance hazelcast = manager.getHazelcastInstance();
      List<String> sameName = new ArrayList<>();
      for (Member member : hazelcast.getCluster().getMembers()) {
        if (!member.localMember() && cluster.nodeName().equals(member.getAttribute(NODE_ATTRIBUTE))) {
          sameName.add(member.getAddress().toString());
        }
      }
      if (!sameName.isEmpty()) {
        return vertx.close().transform(ar -> Future.failedFuture(new InvalidConfigException(List.of(
            "MANAGER_NODE_NAME: \"" + cluster.nodeName() + "\" is already the name of the cluster member at "
                + String.join(", ", sameName)))));
      }
      LOG.info("cluster {}: joined as node {} ({} member(s)); Hazelcast on {}:{}, event bus on {}:{} ({})",
          cluster.name(), cluster.nodeName(), hazelcast.getCluster().getMembers().size(), cluster.host(),
          cluster.port(), cluster.host(), cluster.busPort(),
          cluster.tls().isPresent() ? "mutual TLS" : "INSECURE: plain text");
      return Future.succeededFuture(new ClusterNode(vertx, cluster, config, hazelcast));
    });
  }

  /** Vert.x's own Hazelcast configuration (its maps), with our network, join and failure-detection settings. */
  static Config hazelcast(ClusterConfig cluster) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(cluster.name());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    // Our own shutdown hook leaves the cluster after the verticles stop; Hazelcast's would leave first.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(cluster.heartbeat().toSeconds()));
    config.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(cluster.memberTimeout().toSeconds()));
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.merge.first.run.delay.seconds", "10");
    config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    config.getMemberAttributeConfig().setAttribute(NODE_ATTRIBUTE, cluster.nodeName());
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(false);
    network.setPublicAddress(cluster.host() + ":" + cluster.port());
    if (cluster.host().matches("[0-9.]+")) {
      network.getInterfaces().setEnabled(true).setInterfaces(List.of(cluster.host()));
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    List<String> members = new ArrayList<>(cluster.members());
    members.add(cluster.host() + ":" + cluster.port());
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(1).setMembers(members);
    return config;
  }

  /** The event bus on MANAGER_CLUSTER_HOST:BUS_PORT; with TLS, a node certificate from the CA both ways. */
  static EventBusOptions eventBus(ClusterConfig cluster) {
    EventBusOptions options = new EventBusOptions().setHost(cluster.host()).setPort(cluster.busPort())
        .setClusterPublicHost(cluster.host()).setClusterPublicPort(cluster.busPort());
    cluster.tls().ifPresent(tls -> options.setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.cert()).setKeyPath(tls.key()))
        .setTrustOptions(new PemTrustOptions().addCertPath(tls.ca()))
        .setClientAuth(ClientAuth.REQUIRED));
    return options;
  }
}
