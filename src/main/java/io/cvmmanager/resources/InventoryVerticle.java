package io.cvmmanager.resources;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.config.ManagerConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's inventory, read below MANAGER_HOST_ROOT at start-up and every MANAGER_INVENTORY_INTERVAL (on a worker:
 * the reads are blocking file reads), published at each reading and given to whoever asks for the last one. A
 * warning is logged once, not at every reading.
 */
public final class InventoryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InventoryVerticle.class);

  private final ManagerConfig config;
  private final Set<String> warned = new HashSet<>();
  private HostInventory last;
  private Bus bus;

  public InventoryVerticle(ManagerConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    return read().onSuccess(first -> {
      bus.serve(Addresses.HOST_INVENTORY_GET, query -> Future.succeededFuture(last));
      vertx.setPeriodic(config.resources().inventoryInterval().toMillis(), t -> read());
    });
  }

  private Future<HostInventory> read() {
    return vertx.executeBlocking(() -> HostInventoryReader.read(config.hostRoot(), config.stateDir(),
            config.resources().reservedMemoryBytes(), config.qemu().gpu().devices().setting()), false)
        .onSuccess(inventory -> {
          inventory.warnings().stream().filter(warned::add).forEach(warning -> LOG.warn("host inventory: {}",
              warning));
          last = inventory;
          bus.publish(Addresses.HOST_INVENTORY, inventory);
        });
  }
}
