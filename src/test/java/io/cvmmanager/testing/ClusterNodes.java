package io.cvmmanager.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Several packaged managers clustered on loopback, one {@link JarManagers} each (its own state dir, gRPC and HTTP
 * ports, and a HOST_FWD_RANGE disjoint from the others'), joined by TCP-IP on their own Hazelcast and event-bus
 * ports, under a cluster name of their own so that no other test's cluster is joined. Failure detection is quick
 * (1 s heartbeat, 5 s silence), as a test needs; production keeps the defaults.
 */
public final class ClusterNodes implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private final Map<String, JarManagers> nodes = new LinkedHashMap<>();
  private final Map<String, ManagerProcess> running = new LinkedHashMap<>();
  private final String name;

  /** Nodes {@code names}; {@code settings} changes each one's settings (by name) before any starts. */
  public ClusterNodes(Path dir, List<String> names, Consumer<Map<String, String>> common) throws Exception {
    String cluster = "it-" + UUID.randomUUID().toString().substring(0, 8);
    this.name = cluster;
    // Every port from the tests' band, below the ephemeral range: a port picked free there can be taken by one of
    // Hazelcast's outgoing connections before its node binds it.
    Map<String, PortRange> ports = new LinkedHashMap<>();
    names.forEach(name -> ports.put(name, TestPorts.range(8)));
    List<String> members = new ArrayList<>();
    ports.values().forEach(range -> members.add("127.0.0.1:" + (range.first() + 4)));
    for (String name : names) {
      PortRange range = ports.get(name);
      JarManagers node = new JarManagers(Files.createDirectories(dir.resolve(name)), range.first(),
          range.first() + 3, range.first() + 6, range.first() + 7);
      Map<String, String> settings = node.settings();
      settings.put("MANAGER_CLUSTER_ENABLED", "true");
      settings.put("MANAGER_CLUSTER_NAME", cluster);
      settings.put("MANAGER_NODE_NAME", name);
      settings.put("MANAGER_CLUSTER_HOST", "127.0.0.1");
      settings.put("MANAGER_CLUSTER_PORT", String.valueOf(range.first() + 4));
      settings.put("MANAGER_CLUSTER_BUS_PORT", String.valueOf(range.first() + 5));
      settings.put("MANAGER_CLUSTER_MEMBERS", String.join(",", members));
      settings.put("MANAGER_CLUSTER_INSECURE", "true");
      settings.put("MANAGER_CLUSTER_HEARTBEAT", "1s");
      settings.put("MANAGER_CLUSTER_MEMBER_TIMEOUT", "5s");
      settings.put("MANAGER_LOG_FORMAT", "text");
      common.accept(settings);
      nodes.put(name, node);
    }
  }

  public JarManagers node(String name) {
    return nodes.get(name);
  }

  public Map<String, String> settings(String name) {
    return nodes.get(name).settings();
  }

  /**
   * Starts every node not running, each once its gRPC health is SERVING; returns once each trusts each (those with
   * a certificate from the cluster's CA: a test of one from another CA waits for it itself).
   */
  public void startAll() throws Exception {
    for (String name : nodes.keySet()) {
      if (!running.containsKey(name)) {
        start(name);
      }
    }
    awaitTrusted(nodes.keySet().stream().filter(n -> !"f".equals(n)).toList());
  }

  /** Waits until each of {@code names} sees each of them as a trusted member in its /health. */
  public void awaitTrusted(List<String> names) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .untilAsserted(() -> {
          for (String name : names) {
            JsonObject cluster = health(name).getJsonObject("cluster");
            for (String other : names) {
              boolean trusted = cluster.getJsonArray("nodes").stream().map(JsonObject.class::cast)
                  .anyMatch(n -> n.getString("name").equals(other) && n.getBoolean("member")
                      && n.getBoolean("trusted"));
              assertTrue(trusted, name + " does not trust " + other + ": " + cluster.encode());
            }
          }
        });
  }

  /** Node {@code name}'s /health. */
  public JsonObject health(String name) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:"
        + settings(name).get("MANAGER_HTTP_PORT") + "/health")).build(), HttpResponse.BodyHandlers.ofString());
    return new JsonObject(response.body());
  }

  public ManagerProcess start(String name) throws Exception {
    ManagerProcess process = nodes.get(name).start();
    running.put(name, process);
    return process;
  }

  public ManagerProcess process(String name) {
    return running.get(name);
  }

  /** SIGTERM of node {@code name}'s manager, as systemd stops it; returns once it has exited. */
  public void stop(String name) throws InterruptedException {
    ManagerProcess process = running.remove(name);
    process.terminate();
    process.awaitExit(60);
  }

  /** SIGKILL of node {@code name}'s manager (its QEMUs live on, as after a crash). */
  public void kill(String name) throws InterruptedException {
    running.remove(name).kill();
  }

  /** A CreateVm of upstream's proto, sent to node {@code name}. */
  public UnaryCall.Result<CreateRes> create(String name) {
    return nodes.get(name).<CreateReq, CreateRes>call(JarManagers.MANAGER, "CreateVm", CreateReq.newBuilder()
        .setAgentCvmServerUrl("localhost:7001").build(), CreateRes.newBuilder()).await();
  }

  /** ListVms at node {@code name}: every VM of the cluster as that node sees it. */
  public List<Vm> list(String name) {
    return nodes.get(name).list();
  }

  /** What each node printed, for a failure's message. */
  public String outputs() {
    StringBuilder all = new StringBuilder();
    running.forEach((name, process) -> all.append("---- ").append(name).append('\n').append(process.output()));
    return all.toString();
  }

  /** Stops every node; what each printed is kept in target/cluster-logs/ for a failure's post-mortem. */
  @Override
  public void close() throws Exception {
    Path logs = Files.createDirectories(Path.of("target/cluster-logs"));
    for (Map.Entry<String, JarManagers> node : nodes.entrySet()) {
      node.getValue().close();
      for (Path out : node.getValue().outputs()) {
        Files.copy(out, logs.resolve(name + "-" + node.getKey() + "-" + out.getParent().getFileName() + ".log"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
