package io.cvmmanager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.metrics.PrometheusText;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstream's {@code manager_api_request_count} and {@code manager_api_request_latency_microseconds} move on /metrics
 * for every call of upstream's service over a real socket, under upstream's method names, refused calls included
 * (upstream's middleware counts every call). The VM is the fake QEMU's.
 */
class UpstreamMetricsOverGrpcTest {
  @TempDir
  Path stateDir;

  @Test
  void everyUpstreamCallIsCountedUnderUpstreamsMethodName() throws Exception {
    Map<String, String> settings = Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir).toString());
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2), settings)) {
      var created = manager.create(CreateReq.getDefaultInstance());
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      String id = created.response().getCvmId();
      assertEquals(GrpcStatus.OK, manager.info(id).status());
      assertEquals(GrpcStatus.NOT_FOUND, manager.info("no-such-vm").status());
      assertEquals(GrpcStatus.NOT_FOUND, manager.call("AttestationPolicy",
          AttestationPolicyReq.newBuilder().setId("no-such-vm").build(), AttestationPolicyRes.newBuilder()).status());
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      assertEquals(GrpcStatus.NOT_FOUND, manager.remove(id).status());
      assertEquals(GrpcStatus.INVALID_ARGUMENT, manager.remove("").status());

      PrometheusText text = manager.metrics();

      assertEquals("counter", text.type("manager_api_request_count"));
      assertEquals("summary", text.type("manager_api_request_latency_microseconds"));
      Map<String, Double> calls = Map.of("Run", 1.0, "ReturnCVMInfo", 2.0, "FetchAttestationPolicy", 1.0,
          "Stop", 3.0);
      calls.forEach((method, count) -> {
        Map<String, String> label = Map.of("method", method);
        assertEquals(count, text.value("manager_api_request_count", label), method);
        assertEquals(count, text.value("manager_api_request_latency_microseconds_count", label), method);
        assertTrue(text.value("manager_api_request_latency_microseconds_sum", label) > 0, method);
        assertTrue(text.value("manager_api_request_latency_microseconds",
            Map.of("method", method, "quantile", "0.99")) > 0, method);
      });
      assertEquals(1.0, text.value("cvm_grpc_requests_seconds_count", Map.of("method", "RemoveVm",
          "status", "NOT_FOUND")), "ours beside upstream's");
      manager.assertNothingLeft();
    }
  }
}
