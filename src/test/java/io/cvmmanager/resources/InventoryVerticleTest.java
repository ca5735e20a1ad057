package io.cvmmanager.resources;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The inventory verticle over a fake tree: read at start, given on request, read again at its interval. */
class InventoryVerticleTest {
  @TempDir
  Path root;

  @Test
  void theHostIsReadAtStartGivenOnRequestAndReadAgainAtItsInterval() throws Exception {
    Path meminfo = root.resolve("proc/meminfo");
    Files.createDirectories(meminfo.getParent());
    Files.writeString(meminfo, "MemTotal: 4194304 kB\n");
    ManagerConfig config = ConfigParser.parse(Map.of("MANAGER_HOST_ROOT", root.toString(),
        "MANAGER_STATE_DIR", root.resolve("state").toString(), "MANAGER_HOST_RESERVED_MEMORY", "1G",
        "MANAGER_INVENTORY_INTERVAL", "100ms"), Path.of("/root"), true);
    Vertx vertx = Vertx.vertx();
    try {
      Bus bus = Bus.of(vertx);
      List<HostInventory> published = new CopyOnWriteArrayList<>();
      bus.consume(Addresses.HOST_INVENTORY, published::add).completion().await();
      vertx.deployVerticle(new InventoryVerticle(config)).await();
      assertEquals(OptionalLong.of(3L << 30), bus.request(Addresses.HOST_INVENTORY_GET, Nothing.INSTANCE,
          Duration.ofSeconds(5)).await().memoryBytes());
      Files.writeString(meminfo, "MemTotal: 8388608 kB\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> published.get(published.size() - 1).memoryBytes()
          .equals(OptionalLong.of(7L << 30)));
    } finally {
      vertx.close().await();
    }
  }
}
