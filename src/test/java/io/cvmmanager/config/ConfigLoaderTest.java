package io.cvmmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;
  private Vertx vertx;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeVertx() throws Exception {
    await(vertx.close());
  }

  private static <T> T await(Future<T> future) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private Path yaml(String text) throws IOException {
    return Files.writeString(dir.resolve("manager.yaml"), text);
  }

  private InvalidConfigException loadFails(Map<String, String> env) {
    Exception e = assertThrows(Exception.class, () -> await(ConfigLoader.load(vertx, env)));
    return assertInstanceOf(InvalidConfigException.class, e);
  }

  @Test
  void yamlValuesOverrideDefaults() throws Exception {
    Path file = yaml("""
        MANAGER_GRPC_PORT: 7101
        MANAGER_QEMU_USE_SUDO: true
        MANAGER_QEMU_MEMORY_SIZE: 4096M
        MANAGER_QEMU_STOP_GRACE: 30s
        COCOS_JAEGER_TRACE_RATIO: 0.5
        """);
    Map<String, String> values = await(ConfigLoader.load(vertx, Map.of("MANAGER_CONFIG", file.toString())));

    assertEquals("7101", values.get("MANAGER_GRPC_PORT"));
    assertEquals("true", values.get("MANAGER_QEMU_USE_SUDO"));
    assertEquals("0.5", values.get("COCOS_JAEGER_TRACE_RATIO"));

    ManagerConfig c = ConfigParser.parse(values, Path.of("/root"), true);
    assertEquals(7101, c.grpc().port());
    assertTrue(c.qemu().useSudo());
    assertEquals("4096M", c.qemu().memory().size());
    assertEquals(Duration.ofSeconds(30), c.qemu().stopGrace());
    assertEquals(0.5, c.tracing().ratio());
    assertEquals(7003, c.http().port());
  }

  @Test
  void envWinsOverYaml() throws Exception {
    Path file = yaml("""
        MANAGER_GRPC_PORT: 7101
        MANAGER_HTTP_PORT: 7103
        """);
    Map<String, String> values = await(ConfigLoader.load(vertx,
        Map.of("MANAGER_CONFIG", file.toString(), "MANAGER_GRPC_PORT", "7201")));

    ManagerConfig c = ConfigParser.parse(values, Path.of("/root"), true);
    assertEquals(7201, c.grpc().port());
    assertEquals(7103, c.http().port());
  }

  @Test
  void yamlOnOffWordsStayAsWritten() throws Exception {
    // QEMU's disable-legacy is on/off/auto only: a YAML 1.1 boolean "true" would break every VM launch.
    Path file = yaml("""
        MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY: off
        """);
    Map<String, String> values = await(ConfigLoader.load(vertx, Map.of("MANAGER_CONFIG", file.toString())));
    assertEquals("off", values.get("MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY"));
  }

  @Test
  void yamlPciAddressStaysAsWritten() throws Exception {
    // YAML 1.1 reads an unquoted 0000:01:00.0 as a base-60 float.
    Path file = yaml("""
        MANAGER_QEMU_GPU_BDF: 0000:01:00.0
        """);
    Map<String, String> values = await(ConfigLoader.load(vertx, Map.of("MANAGER_CONFIG", file.toString())));
    assertEquals("0000:01:00.0", values.get("MANAGER_QEMU_GPU_BDF"));
  }

  @Test
  void missingConfigFileFailsNamingManagerConfig() {
    String missing = dir.resolve("absent.yaml").toString();
    List<String> problems = loadFails(Map.of("MANAGER_CONFIG", missing)).problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("MANAGER_CONFIG: "), problems.get(0));
    assertTrue(problems.get(0).contains(missing), problems.get(0));
  }

  @Test
  void unparsableYamlFailsNamingManagerConfig() throws Exception {
    Path file = yaml("MANAGER_GRPC_PORT: [7101\n");
    List<String> problems = loadFails(Map.of("MANAGER_CONFIG", file.toString())).problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("MANAGER_CONFIG: "), problems.get(0));
  }

  @Test
  void yamlListValueFailsNamingTheVariable() throws Exception {
    Path file = yaml("""
        MANAGER_GRPC_PORT:
          - 7101
          - 7102
        """);
    List<String> problems = loadFails(Map.of("MANAGER_CONFIG", file.toString())).problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("MANAGER_GRPC_PORT: "), problems.get(0));
  }

  @Test
  void noFileAtTheDefaultPathIsFine(@TempDir Path dir) throws Exception {
    Map<String, String> values = await(ConfigLoader.load(vertx, Map.of("MANAGER_GRPC_PORT", "7301"),
        dir.resolve("conf/manager.yaml")));
    assertEquals("7301", values.get("MANAGER_GRPC_PORT"));
    assertFalse(values.containsKey("MANAGER_HTTP_PORT"));
  }

  @Test
  void shippedManagerYamlLoadsAndSetsNothing() throws Exception {
    Map<String, String> values = await(ConfigLoader.load(vertx, Map.of(), Path.of("conf/manager.yaml")));
    assertTrue(values.isEmpty(), values.toString());
  }
}
