package io.cvmmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Upstream's request metrics in our scrape, line for line as the Go manager's exposition has them (magistrala
 * pkg/prometheus MakeMetrics, printed by client_golang's text format 0.0.4).
 */
class UpstreamApiMetricsTest {
  @Test
  void scrapeHasUpstreamsFamiliesAsTheGoClientPrintsThem() {
    ManagerMetrics metrics = ManagerMetrics.create();
    metrics.upstreamRequest("CreateVm", Duration.ofMillis(40));
    metrics.upstreamRequest("RemoveVm", Duration.ofNanos(12_500));
    metrics.upstreamRequest("CVMInfo", Duration.ofMillis(2500));

    assertEquals(List.of(
        "# HELP manager_api_request_count Number of requests received.",
        "# TYPE manager_api_request_count counter",
        "manager_api_request_count{method=\"ReturnCVMInfo\"} 1",
        "manager_api_request_count{method=\"Run\"} 1",
        "manager_api_request_count{method=\"Stop\"} 1",
        "# HELP manager_api_request_latency_microseconds Total duration of requests in microseconds.",
        "# TYPE manager_api_request_latency_microseconds summary",
        "manager_api_request_latency_microseconds{method=\"ReturnCVMInfo\",quantile=\"0.5\"} 2.5",
        "manager_api_request_latency_microseconds{method=\"ReturnCVMInfo\",quantile=\"0.9\"} 2.5",
        "manager_api_request_latency_microseconds{method=\"ReturnCVMInfo\",quantile=\"0.99\"} 2.5",
        "manager_api_request_latency_microseconds_sum{method=\"ReturnCVMInfo\"} 2.5",
        "manager_api_request_latency_microseconds_count{method=\"ReturnCVMInfo\"} 1",
        "manager_api_request_latency_microseconds{method=\"Run\",quantile=\"0.5\"} 0.04",
        "manager_api_request_latency_microseconds{method=\"Run\",quantile=\"0.9\"} 0.04",
        "manager_api_request_latency_microseconds{method=\"Run\",quantile=\"0.99\"} 0.04",
        "manager_api_request_latency_microseconds_sum{method=\"Run\"} 0.04",
        "manager_api_request_latency_microseconds_count{method=\"Run\"} 1",
        "manager_api_request_latency_microseconds{method=\"Stop\",quantile=\"0.5\"} 1.25e-05",
        "manager_api_request_latency_microseconds{method=\"Stop\",quantile=\"0.9\"} 1.25e-05",
        "manager_api_request_latency_microseconds{method=\"Stop\",quantile=\"0.99\"} 1.25e-05",
        "manager_api_request_latency_microseconds_sum{method=\"Stop\"} 1.25e-05",
        "manager_api_request_latency_microseconds_count{method=\"Stop\"} 1"),
        upstreamLines(metrics.scrape()));
  }

  @Test
  void theWholeScrapeStaysValidAndOursAreStillThere() {
    ManagerMetrics metrics = ManagerMetrics.create();
    metrics.rpc("AttestationPolicy", "NOT_FOUND", Duration.ofMillis(3));
    metrics.upstreamRequest("AttestationPolicy", Duration.ofMillis(3));
    metrics.upstreamRequest("AttestationPolicy", Duration.ofMillis(5));

    String scrape = metrics.scrape();
    PrometheusText text = PrometheusText.parse(scrape);

    assertEquals("counter", text.type("manager_api_request_count"));
    assertEquals("summary", text.type("manager_api_request_latency_microseconds"));
    assertEquals(2.0, text.value("manager_api_request_count", Map.of("method", "FetchAttestationPolicy")));
    assertEquals(2.0, text.value("manager_api_request_latency_microseconds_count",
        Map.of("method", "FetchAttestationPolicy")));
    assertEquals(0.008, text.value("manager_api_request_latency_microseconds_sum",
        Map.of("method", "FetchAttestationPolicy")), 1e-12);
    assertEquals(1.0, text.value("cvm_grpc_requests_seconds_count",
        Map.of("method", "AttestationPolicy", "status", "NOT_FOUND")));
    assertFalse(scrape.contains("manager_api_request_count_total"), scrape);
  }

  @Test
  void noFamilyBeforeTheFirstCall() {
    assertEquals(List.of(), upstreamLines(ManagerMetrics.create().scrape()));
  }

  @Test
  void callsFromManyThreadsAreAllCounted() throws Exception {
    ManagerMetrics metrics = ManagerMetrics.create();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = IntStream.range(0, 8).<Future<?>>mapToObj(t -> threads.submit(() -> {
        for (int i = 0; i < 1000; i++) {
          metrics.upstreamRequest("RemoveVm", Duration.ofMillis(1));
        }
      })).toList();
      for (Future<?> thread : done) {
        thread.get();
      }
    } finally {
      threads.shutdown();
    }
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    assertEquals(8000.0, text.value("manager_api_request_count", Map.of("method", "Stop")));
    assertEquals(8000.0, text.value("manager_api_request_latency_microseconds_count", Map.of("method", "Stop")));
  }

  @Test
  void aMethodUpstreamDoesNotHaveIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> ManagerMetrics.create().upstreamRequest("ListVms", Duration.ofMillis(1)));
  }

  private static List<String> upstreamLines(String scrape) {
    return Arrays.stream(scrape.split("\n"))
        .filter(line -> line.startsWith("manager_api_") || line.matches("# (HELP|TYPE) manager_api_.*"))
        .toList();
  }
}
