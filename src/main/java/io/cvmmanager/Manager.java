package io.cvmmanager;

import io.cvmmanager.api.GrpcApiVerticle;
import io.cvmmanager.attestation.AttestationVerticle;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.disk.DiskVerticle;
import io.cvmmanager.events.EventHistoryVerticle;
import io.cvmmanager.http.HttpApiVerticle;
import io.cvmmanager.launcher.VmLauncherVerticle;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.monitor.MonitorVerticle;
import io.cvmmanager.ports.PortPoolVerticle;
import io.cvmmanager.resources.InventoryVerticle;
import io.cvmmanager.tracing.Tracing;
import io.cvmmanager.vm.Tee;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * The manager's verticles, deployed in dependency order and undeployed in reverse: the API stops taking calls
 * first, the launcher then stops its VMs while the port pool and file owner are still there to release what they
 * had. One lifecycle for the jar and for tests.
 */
public final class Manager {
  private final Vertx vertx;
  private final Deque<String> deployments = new ArrayDeque<>();

  private Manager(Vertx vertx) {
    this.vertx = vertx;
  }

  public static Future<Manager> start(Vertx vertx, ManagerConfig config, Tee tee, ManagerMetrics metrics,
      Tracing tracing) {
    Manager manager = new Manager(vertx);
    List<Supplier<Deployable>> order = List.<Supplier<Deployable>>of(
        () -> new EventHistoryVerticle(),
        () -> new PortPoolVerticle(config.qemu().net().hostFwdRange()),
        () -> new DiskVerticle(config.stateDir(), config.qemu()),
        () -> new MonitorVerticle(config.observation()),
        () -> new InventoryVerticle(config),
        () -> new VmLauncherVerticle(config, tee, metrics, tracing),
        () -> new AttestationVerticle(config),
        () -> new GrpcApiVerticle(config, metrics, tracing),
        () -> new HttpApiVerticle(config, metrics));
    Future<Void> chain = Future.succeededFuture();
    for (Supplier<Deployable> verticle : order) {
      chain = chain.compose(v -> vertx.deployVerticle(verticle.get()).map(id -> {
        manager.deployments.push(id);
        return null;
      }));
    }
    return chain.map(manager).recover(e -> manager.stop().transform(ignored -> Future.failedFuture(e)));
  }

  /** Undeploys in reverse order; the Vert.x instance stays for its owner to close. */
  public Future<Void> stop() {
    Future<Void> chain = Future.succeededFuture();
    while (!deployments.isEmpty()) {
      String id = deployments.pop();
      chain = chain.transform(ar -> vertx.undeploy(id));
    }
    return chain;
  }
}
