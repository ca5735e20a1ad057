package io.cvmmanager.http;

import io.cvmmanager.Version;
import io.cvmmanager.api.GrpcApiVerticle;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.cluster.NodeList;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.resources.HostView;
import io.cvmmanager.vm.VmState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health and metrics over HTTP, for probes and Prometheus: {@code GET /health} (JSON: status, version, instance id,
 * VMs by state, the host's resources as GetHost has them; 503 and {@code "degraded"} when the launcher does not
 * answer) and {@code GET /metrics} (Prometheus text). Same TLS choices as the gRPC server, from the
 * {@code MANAGER_HTTP_*} files.
 *
 * <p>The {@code cvm_vms{state}} and {@code cvm_host_*{resource}} gauges are fed from here: before each scrape the
 * launcher's VM list and host view are fetched over the event bus, so the gauges are exact at scrape time and nothing
 * reads the launcher's table or accounts from another thread.
 */
public final class HttpApiVerticle extends VerticleBase {
  /** A probe's budget is a few seconds; a launcher slower than this to list its VMs is not healthy. */
  static final Duration LAUNCHER_TIMEOUT = Duration.ofSeconds(2);
  private static final String JSON = "application/json";
  private static final Logger LOG = LoggerFactory.getLogger(HttpApiVerticle.class);

  private final ManagerConfig config;
  private final ManagerMetrics metrics;
  private volatile Map<String, Integer> lastCounts = Map.of();
  private volatile int lastUnsaved;
  private Bus bus;
  private HttpServer server;

  public HttpApiVerticle(ManagerConfig config, ManagerMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    metrics.vmStates(() -> lastCounts);
    metrics.unsavedVms(() -> lastUnsaved);
    server = vertx.createHttpServer(GrpcApiVerticle.serverOptions(config.http(), config.httpTls()))
        .requestHandler(this::handle);
    return server.listen().onSuccess(s -> LOG.info("HTTP (health, metrics) listening on {}:{} ({})",
        config.http().host(), s.actualPort(), GrpcApiVerticle.describe("MANAGER_HTTP_", config.httpTls())));
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    if (!path.equals("/health") && !path.equals("/metrics")) {
      request.response().setStatusCode(404).end();
      return;
    }
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      request.response().setStatusCode(405).putHeader(HttpHeaders.ALLOW, "GET, HEAD").end();
      return;
    }
    if (path.equals("/health")) {
      health(request);
    } else {
      metrics(request);
    }
  }

  private void health(HttpServerRequest request) {
    JsonObject body = new JsonObject().put("version", Version.current()).put("instanceId", config.instanceId());
    Future<Map<String, Integer>> counts = vmCounts();
    Future<HostView> host = hostView();
    // Clustered: the nodes as this one sees them; a cluster that does not answer does not make this node unhealthy.
    Future<JsonObject> cluster = config.cluster().enabled()
        ? bus.request(Addresses.CLUSTER_NODES, Nothing.INSTANCE, LAUNCHER_TIMEOUT).map(NodeList::toJson)
            .otherwise(e -> new JsonObject().put("error", e.getMessage()))
        : Future.succeededFuture(null);
    Future.all(counts, host, cluster).onComplete(ar -> {
      int status;
      if (ar.succeeded()) {
        status = 200;
        JsonObject vms = new JsonObject();
        counts.result().forEach(vms::put);
        body.put("status", "ok").put("vms", vms).put("host", host.result().toJson());
        if (cluster.result() != null) {
          body.put("cluster", cluster.result());
        }
        if (lastUnsaved > 0) {
          // Still 200: the VMs run and calls are served; a restart would not bring the disk space back.
          body.put("status", "degraded").put("reason", "state.json of " + lastUnsaved
              + " VM(s) could not be written; retrying (is the state dir's disk full?)");
        }
      } else {
        status = 503;
        body.put("status", "degraded").put("reason", "the VM launcher does not answer: " + ar.cause().getMessage());
      }
      request.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body.encode());
    });
  }

  /**
   * The VM and host gauges are brought up to date first; if the launcher does not answer they keep their last
   * values.
   */
  private void metrics(HttpServerRequest request) {
    Future.join(vmCounts(), hostView()).onComplete(ar -> {
      if (ar.failed()) {
        LOG.debug("VM or host gauges not refreshed: {}", ar.cause().toString());
      }
      request.response().putHeader(HttpHeaders.CONTENT_TYPE, ManagerMetrics.CONTENT_TYPE).end(metrics.scrape());
    });
  }

  /** VMs by state, every state present (0 if none); also what the gauges read until the next refresh. */
  private Future<Map<String, Integer>> vmCounts() {
    return bus.request(Addresses.VM_LIST, Nothing.INSTANCE, LAUNCHER_TIMEOUT)
        .map(list -> {
          Map<String, Integer> counts = new TreeMap<>();
          for (VmState state : VmState.values()) {
            counts.put(state.name(), 0);
          }
          list.vms().forEach(vm -> counts.merge(vm.state().name(), 1, Integer::sum));
          lastCounts = Map.copyOf(counts);
          lastUnsaved = list.unsaved();
          return counts;
        });
  }

  /** The host's resources as the launcher accounts them; also what the host gauges read until the next refresh. */
  private Future<HostView> hostView() {
    return bus.request(Addresses.HOST_GET, Nothing.INSTANCE, LAUNCHER_TIMEOUT).onSuccess(metrics::hostResources);
  }
}
