package io.cvmmanager.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.Version;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.metrics.PrometheusText;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /health and /metrics over real sockets: against a whole manager with paused VMs, and on their own. */
class HttpApiVerticleIT {
  private static final PortRange PORTS = TestPorts.range(10);
  private static final Map<String, String> PAUSED = Map.of("MANAGER_QEMU_START_PAUSED", "true");

  @Test
  void healthAndMetricsCountVmsByStateAndRpcsByMethod(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      Vertx vertx = manager.vertx();
      int port = manager.config().http().port();
      String first = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      String second = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      assertEquals(2, manager.qemuProcesses().size());
      assertEquals(2, runningInLauncher(vertx));

      HttpGet health = HttpGet.get(vertx, port, "/health");
      assertEquals(200, health.status());
      assertEquals("application/json", health.contentType());
      JsonObject body = new JsonObject(health.body());
      assertEquals("ok", body.getString("status"));
      assertEquals(Version.current(), body.getString("version"));
      assertEquals(manager.config().instanceId(), body.getString("instanceId"));
      assertEquals(2, body.getJsonObject("vms").getInteger("RUNNING"));
      assertEquals(0, body.getJsonObject("vms").getInteger("FAILED"));

      assertEquals(GrpcStatus.NOT_FOUND, manager.info("4b0f7f0e-0000-4000-8000-000000000000").status());
      PrometheusText metrics = scrape(vertx, port);
      assertEquals(2.0, metrics.value("cvm_vms", Map.of("state", "RUNNING")));
      assertEquals(0.0, metrics.value("cvm_vms", Map.of("state", "STOPPING")));
      assertEquals(2.0, metrics.value("cvm_grpc_requests_seconds_count", Map.of("method", "CreateVm", "status", "OK")));
      assertEquals(1.0, metrics.value("cvm_grpc_requests_seconds_count",
          Map.of("method", "CVMInfo", "status", "NOT_FOUND")));
      assertNull(metrics.value("cvm_grpc_requests_seconds_count", Map.of("method", "RemoveVm", "status", "OK")));

      assertEquals(GrpcStatus.OK, manager.remove(first).status());
      assertEquals(1, manager.qemuProcesses().size());
      assertEquals(1, new JsonObject(HttpGet.get(vertx, port, "/health").body()).getJsonObject("vms")
          .getInteger("RUNNING"));
      metrics = scrape(vertx, port);
      assertEquals(1.0, metrics.value("cvm_vms", Map.of("state", "RUNNING")));
      assertEquals(1.0, metrics.value("cvm_grpc_requests_seconds_count", Map.of("method", "RemoveVm", "status", "OK")));
      assertEquals(GrpcStatus.OK, manager.remove(second).status());
    }
  }

  @Test
  void healthIsDegradedWhenTheLauncherDoesNotAnswer() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      ManagerConfig config = config(Map.of());
      ManagerMetrics metrics = ManagerMetrics.create();
      vertx.deployVerticle(new HttpApiVerticle(config, metrics)).await();

      HttpGet health = HttpGet.get(vertx, config.http().port(), "/health");
      assertEquals(503, health.status());
      JsonObject body = new JsonObject(health.body());
      assertEquals("degraded", body.getString("status"));
      assertEquals(config.instanceId(), body.getString("instanceId"));
      assertTrue(body.getString("reason").contains("launcher"), body.encode());

      HttpGet scrape = HttpGet.get(vertx, config.http().port(), "/metrics");
      assertEquals(200, scrape.status());
      assertEquals(0.0, PrometheusText.parse(scrape.body()).value("cvm_vms", Map.of("state", "RUNNING")));
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void onlyGetOfHealthAndMetricsIsServed() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      ManagerConfig config = config(Map.of());
      vertx.deployVerticle(new HttpApiVerticle(config, ManagerMetrics.create())).await();
      int port = config.http().port();
      assertEquals(404, HttpGet.get(vertx, port, "/").status());
      assertEquals(404, HttpGet.get(vertx, port, "/healthz").status());
      assertEquals(404, HttpGet.get(vertx, port, "/metrics/x").status());
      assertEquals(405, HttpGet.request(vertx, new HttpClientOptions(), HttpMethod.POST, port, "/health").await()
          .status());
    } finally {
      vertx.close().await();
    }
  }

  private static ManagerConfig config(Map<String, String> extra) throws Exception {
    Map<String, String> values = new HashMap<>();
    values.put("MANAGER_GRPC_PORT", String.valueOf(FreePort.next()));
    values.put("MANAGER_HTTP_PORT", String.valueOf(FreePort.next()));
    values.putAll(extra);
    return ConfigParser.parse(values, Path.of("/root"), true);
  }

  private static int runningInLauncher(Vertx vertx) {
    return (int) Bus.of(vertx).request(Addresses.VM_LIST, Nothing.INSTANCE, Duration.ofSeconds(5)).await().vms()
        .stream().filter(vm -> vm.state() == io.cvmmanager.vm.VmState.RUNNING).count();
  }

  private static PrometheusText scrape(Vertx vertx, int port) {
    HttpGet scrape = HttpGet.get(vertx, port, "/metrics");
    assertEquals(200, scrape.status());
    assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.contentType());
    return PrometheusText.parse(scrape.body());
  }
}
