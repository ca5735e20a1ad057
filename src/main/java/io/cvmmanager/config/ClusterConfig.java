package io.cvmmanager.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Clustered mode: this node's name and addresses, whom it joins, how CreateVms are placed, and the event bus's
 * security. {@link #off()} unless MANAGER_CLUSTER_ENABLED; nothing of Hazelcast is loaded then.
 *
 * @param members Hazelcast addresses ({@code host:port}) of the nodes to join (TCP-IP join, no multicast)
 * @param tls the event bus's mutual TLS; empty only when {@code insecure}
 * @param heartbeat Hazelcast's heartbeat interval
 * @param memberTimeout the heartbeat silence after which a member is removed (a frozen node is seen this late)
 */
public record ClusterConfig(boolean enabled, String name, String nodeName, String host, int port, int busPort,
    List<String> members, PlacementPolicy placement, Optional<BusTls> tls, boolean insecure, boolean relayPorts,
    Duration heartbeat, Duration memberTimeout) {

  public ClusterConfig {
    members = List.copyOf(members);
  }

  /** Where a CreateVm goes among the nodes that fit it. */
  public enum PlacementPolicy {
    /** The node that took the call, else the one with most free memory. */
    LOCAL_FIRST,
    /** The node with most free memory. */
    SPREAD,
    /** The node with least free memory that still fits. */
    PACK
  }

  /** PEM files: this node's certificate and key, and the CA that every node's certificate must be from. */
  public record BusTls(String cert, String key, String ca) {}

  /** A node name as it appears in event-bus addresses and the node map. */
  public static boolean isNodeName(String name) {
    return name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
  }

  /** The same, named {@code nodeName} (the host name when MANAGER_NODE_NAME was empty). */
  public ClusterConfig withNodeName(String newName) {
    return new ClusterConfig(enabled, name, newName, host, port, busPort, members, placement, tls, insecure,
        relayPorts, heartbeat, memberTimeout);
  }

  public static ClusterConfig off() {
    return new ClusterConfig(false, "cvm-manager", "", "", 5701, 5702, List.of(), PlacementPolicy.LOCAL_FIRST,
        Optional.empty(), false, true, Duration.ofSeconds(1), Duration.ofSeconds(10));
  }
}
