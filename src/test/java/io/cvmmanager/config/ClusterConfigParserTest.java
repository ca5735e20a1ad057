package io.cvmmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** MANAGER_CLUSTER_* and MANAGER_NODE_NAME: off by default, read only when on, one line per bad value. */
class ClusterConfigParserTest {
  private static final Path HOME = Path.of("/home/alice");

  private static Map<String, String> clustered(String... more) {
    Map<String, String> values = new HashMap<>(Map.of("MANAGER_CLUSTER_ENABLED", "true",
        "MANAGER_CLUSTER_HOST", "10.0.0.1", "MANAGER_CLUSTER_MEMBERS", "10.0.0.1:5701,10.0.0.2:5701,node-c:5701",
        "MANAGER_CLUSTER_TLS_CERT", "/etc/cvm/node.pem", "MANAGER_CLUSTER_TLS_KEY", "/etc/cvm/node.key",
        "MANAGER_CLUSTER_TLS_CA", "/etc/cvm/ca.pem"));
    for (int i = 0; i + 1 < more.length; i += 2) {
      if (more[i + 1] == null) {
        values.remove(more[i]);
      } else {
        values.put(more[i], more[i + 1]);
      }
    }
    return values;
  }

  private static List<String> problems(Map<String, String> values) {
    return assertThrows(InvalidConfigException.class, () -> ConfigParser.parse(values, HOME, false)).problems();
  }

  @Test
  void offByDefaultAndNothingElseOfItIsRead() throws InvalidConfigException {
    ManagerConfig config = ConfigParser.parse(Map.of("MANAGER_CLUSTER_PLACEMENT", "nowhere",
        "MANAGER_CLUSTER_PORT", "x"), HOME, false);
    assertFalse(config.cluster().enabled());
    assertEquals(ClusterConfig.off(), config.cluster());
  }

  @Test
  void defaultsWhenOn() throws InvalidConfigException {
    ClusterConfig cluster = ConfigParser.parse(clustered(), HOME, false).cluster();
    assertTrue(cluster.enabled());
    assertEquals("cvm-manager", cluster.name());
    assertEquals("", cluster.nodeName(), "the host name, resolved at start");
    assertEquals(5701, cluster.port());
    assertEquals(5702, cluster.busPort());
    assertEquals(List.of("10.0.0.1:5701", "10.0.0.2:5701", "node-c:5701"), cluster.members());
    assertEquals(ClusterConfig.PlacementPolicy.LOCAL_FIRST, cluster.placement());
    assertEquals(Optional.of(new ClusterConfig.BusTls("/etc/cvm/node.pem", "/etc/cvm/node.key", "/etc/cvm/ca.pem")),
        cluster.tls());
    assertFalse(cluster.insecure());
    assertTrue(cluster.relayPorts());
    assertEquals(Duration.ofSeconds(1), cluster.heartbeat());
    assertEquals(Duration.ofSeconds(10), cluster.memberTimeout());
  }

  @Test
  void withoutTlsItIsRefusedUnlessInsecure() throws InvalidConfigException {
    Map<String, String> plain = clustered("MANAGER_CLUSTER_TLS_CERT", null, "MANAGER_CLUSTER_TLS_KEY", null,
        "MANAGER_CLUSTER_TLS_CA", null);
    List<String> refused = problems(plain);
    assertEquals(1, refused.size(), refused.toString());
    assertTrue(refused.get(0).startsWith("MANAGER_CLUSTER_TLS_CERT: clustered mode needs the event bus's mutual"
        + " TLS"), refused.get(0));

    plain.put("MANAGER_CLUSTER_INSECURE", "true");
    ManagerConfig insecure = ConfigParser.parse(plain, HOME, false);
    assertTrue(insecure.cluster().insecure());
    assertEquals(Optional.empty(), insecure.cluster().tls());
    assertTrue(insecure.warnings().stream().anyMatch(w -> w.startsWith("MANAGER_CLUSTER_INSECURE=true")),
        insecure.warnings().toString());
  }

  @Test
  void placementPolicies() throws InvalidConfigException {
    assertEquals(ClusterConfig.PlacementPolicy.SPREAD, ConfigParser.parse(clustered("MANAGER_CLUSTER_PLACEMENT",
        "spread"), HOME, false).cluster().placement());
    assertEquals(ClusterConfig.PlacementPolicy.PACK, ConfigParser.parse(clustered("MANAGER_CLUSTER_PLACEMENT",
        "PACK"), HOME, false).cluster().placement());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "MANAGER_NODE_NAME|-starts-with-a-dash",
      "MANAGER_NODE_NAME|has space",
      "MANAGER_CLUSTER_HOST|''",
      "MANAGER_CLUSTER_PORT|0",
      "MANAGER_CLUSTER_BUS_PORT|5701",
      "MANAGER_CLUSTER_MEMBERS|10.0.0.2",
      "MANAGER_CLUSTER_MEMBERS|10.0.0.2:99999",
      "MANAGER_CLUSTER_MEMBERS|a b:5701",
      "MANAGER_CLUSTER_PLACEMENT|random",
      "MANAGER_CLUSTER_TLS_KEY|''",
      "MANAGER_CLUSTER_INSECURE|maybe",
      "MANAGER_CLUSTER_RELAY_PORTS|sometimes",
      "MANAGER_CLUSTER_HEARTBEAT|500ms",
      "MANAGER_CLUSTER_MEMBER_TIMEOUT|1s",
  })
  void aBadValueIsOneLineNamingItsVariable(String variable, String value) {
    List<String> problems = problems(clustered(variable, value.isEmpty() ? null : value));
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith(variable + ": "), problems.get(0));
  }
}
