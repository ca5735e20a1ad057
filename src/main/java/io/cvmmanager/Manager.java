package io.cvmmanager;

import io.cvmmanager.api.GrpcApiVerticle;
import io.cvmmanager.attestation.AttestationVerticle;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.cluster.AgentRelayVerticle;
import io.cvmmanager.cluster.ClusterFleet;
import io.cvmmanager.cluster.ClusterNode;
import io.cvmmanager.cluster.ClusterVerticle;
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
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
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
    return start(vertx, config, tee, metrics, tracing, Optional.empty());
  }

  /**
   * @param cluster this node of the cluster in clustered mode: its part (after the launcher has adopted the VMs, so
   *     that its table is whole when published) and its agent relays come before the API, which then places and
   *     routes calls across the cluster
   */
  public static Future<Manager> start(Vertx vertx, ManagerConfig config, Tee tee, ManagerMetrics metrics,
      Tracing tracing, Optional<ClusterNode> cluster) {
    Manager manager = new Manager(vertx);
    List<Supplier<Deployable>> order = new ArrayList<>(List.<Supplier<Deployable>>of(
        () -> new EventHistoryVerticle(),
        () -> new PortPoolVerticle(config.qemu().net().hostFwdRange()),
        () -> new DiskVerticle(config.stateDir(), config.qemu()),
        () -> new MonitorVerticle(config.observation()),
        () -> new InventoryVerticle(config),
        () -> new VmLauncherVerticle(config, tee, metrics, tracing),
        () -> new AttestationVerticle(config)));
    cluster.ifPresent(node -> {
      order.add(() -> new ClusterVerticle(node, tee));
      order.add(() -> new AgentRelayVerticle(node));
    });
    order.add(() -> cluster.isPresent()
        ? new GrpcApiVerticle(config, metrics, tracing, v -> new ClusterFleet(cluster.get(), Bus.of(v), tee))
        : new GrpcApiVerticle(config, metrics, tracing));
    order.add(() -> new HttpApiVerticle(config, metrics));
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
