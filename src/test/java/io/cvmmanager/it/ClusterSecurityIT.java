package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.Main;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.ClusterNodes;
import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.testing.TestCerts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clustered mode's security, on the packaged jar: no cluster without the event bus's mutual TLS unless insecure is
 * set; a node whose certificate is from another CA joins Hazelcast (whose open-source edition authenticates no
 * member) but is flagged and gets no work; a second node of a name already in the cluster exits 2.
 */
class ClusterSecurityIT {
  private static final Duration VIEW = Duration.ofSeconds(20);

  @TempDir
  Path dir;
  private ClusterNodes cluster;

  @AfterEach
  void tearDown() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void clusteredWithoutTlsIsRefusedUnlessInsecure() throws Exception {
    Map<String, String> settings = new HashMap<>(Map.of("MANAGER_CLUSTER_ENABLED", "true",
        "MANAGER_CLUSTER_HOST", "127.0.0.1", "MANAGER_STATE_DIR", dir.resolve("state").toString()));
    try (ManagerProcess refused = ManagerProcess.start(Path.of("conf/dev.env"), settings,
        Files.createDirectories(dir.resolve("out")))) {
      assertEquals(Main.EXIT_CONFIG, refused.awaitExit(60), refused.output());
      assertTrue(refused.output().contains("cvm-manager: invalid configuration: MANAGER_CLUSTER_TLS_CERT: clustered"
          + " mode needs the event bus's mutual TLS"), refused.output());
      assertFalse(refused.output().contains("Hazelcast"), "nothing joined: " + refused.output());
    }
  }

  /**
   * A and B have certificates from the cluster's CA, F one from another CA: F is flagged at A and never placed on.
   * With A and B full, a CreateVm at A is RESOURCE_EXHAUSTED naming F as not trusted, though F has room.
   */
  @Test
  void aNodeWithACertificateFromAnotherCaGetsNoWork() throws Exception {
    TestCerts certs = TestCerts.create(Files.createDirectories(dir.resolve("certs")));
    cluster = new ClusterNodes(dir, List.of("a", "b", "f"), settings -> {
      settings.put("MANAGER_CLUSTER_INSECURE", "false");
      settings.put("MANAGER_CLUSTER_TLS_CERT", certs.serverCert().toString());
      settings.put("MANAGER_CLUSTER_TLS_KEY", certs.serverKey().toString());
      settings.put("MANAGER_CLUSTER_TLS_CA", certs.caCert().toString());
      settings.put("MANAGER_MAX_VMS", "1");
    });
    cluster.settings("f").put("MANAGER_CLUSTER_TLS_CERT", certs.dir().resolve("foreign-client.pem").toString());
    cluster.settings("f").put("MANAGER_CLUSTER_TLS_KEY", certs.dir().resolve("foreign-client.key").toString());
    cluster.settings("f").put("MANAGER_CLUSTER_TLS_CA", certs.otherCaCert().toString());
    cluster.settings("f").put("MANAGER_MAX_VMS", "0");
    cluster.startAll();

    JsonObject seenAtA = await().atMost(VIEW).ignoreExceptions().until(() -> node(health("a"), "f"),
        f -> f.getJsonArray("flags").stream().map(String.class::cast)
            .anyMatch(flag -> flag.startsWith("a: no answer over the event bus")));
    assertTrue(seenAtA.getBoolean("member"), seenAtA.encode());
    assertFalse(seenAtA.getBoolean("trusted"), seenAtA.encode());
    await().atMost(VIEW).untilAsserted(() -> assertTrue(node(health("a"), "b").getBoolean("trusted")));

    String onA = cluster.create("a").response().getCvmId();
    String onB = cluster.create("a").response().getCvmId();
    List<Vm> vms = cluster.list("a");
    assertEquals("a", find(vms, onA).getNode());
    assertEquals("b", find(vms, onB).getNode(), "placed over the event bus's mutual TLS");

    UnaryCall.Result<CreateRes> full = cluster.create("a");
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, full.status(), full.message());
    assertTrue(full.message().contains("f: not trusted"), full.message());
    assertTrue(cluster.node("f").vmDirs().isEmpty(), "F got no VM");

    assertEquals(GrpcStatus.OK, cluster.node("a").remove(onB).status());
    assertEquals(GrpcStatus.OK, cluster.node("b").remove(onA).status());
    for (String node : List.of("a", "b", "f")) {
      cluster.node(node).assertNothingLeft();
    }
  }

  @Test
  void aSecondNodeOfANameAlreadyInTheClusterExits2() throws Exception {
    cluster = new ClusterNodes(dir, List.of("a", "twin"), settings -> { });
    cluster.settings("twin").put("MANAGER_NODE_NAME", "a");
    cluster.start("a");
    ManagerProcess twin = ManagerProcess.start(Path.of("conf/dev.env"), cluster.settings("twin"),
        Files.createDirectories(dir.resolve("twin-out")));
    try (twin) {
      assertEquals(Main.EXIT_CONFIG, twin.awaitExit(90), twin.output());
      assertTrue(twin.output().contains("MANAGER_NODE_NAME: \"a\" is already the name of the cluster member at"),
          twin.output());
    }
  }

  private static Vm find(List<Vm> vms, String id) {
    return vms.stream().filter(vm -> vm.getId().equals(id)).findFirst().orElseThrow();
  }

  private JsonObject health(String node) throws Exception {
    return cluster.health(node);
  }

  private static JsonObject node(JsonObject health, String name) {
    JsonArray nodes = health.getJsonObject("cluster").getJsonArray("nodes");
    return nodes.stream().map(JsonObject.class::cast).filter(n -> n.getString("name").equals(name)).findFirst()
        .orElseThrow();
  }
}
