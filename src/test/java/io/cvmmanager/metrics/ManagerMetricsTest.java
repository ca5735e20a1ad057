package io.cvmmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.cvmmanager.vm.VmUsage;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The meters the launcher and the API record, under the names operators will query. */
class ManagerMetricsTest {
  @Test
  void metersRenderUnderTheirPrometheusNames() {
    ManagerMetrics metrics = ManagerMetrics.create();
    metrics.rpc("CreateVm", "OK", Duration.ofMillis(40));
    metrics.rpc("CreateVm", "OK", Duration.ofMillis(700));
    metrics.rpc("RemoveVm", "NOT_FOUND", Duration.ofMillis(1));
    metrics.vmCreated(Duration.ofSeconds(3));
    metrics.createFailed("RESOURCE_EXHAUSTED");
    metrics.vmRemoved(Duration.ofSeconds(1));
    metrics.qemuExited("killed");
    metrics.qemuExited("killed");
    metrics.vmStates(() -> Map.of("RUNNING", 3, "STOPPING", 1));

    PrometheusText text = PrometheusText.parse(metrics.scrape());

    assertEquals(2.0, text.value("cvm_grpc_requests_seconds_count", Map.of("method", "CreateVm", "status", "OK")));
    assertEquals(0.74, text.value("cvm_grpc_requests_seconds_sum", Map.of("method", "CreateVm", "status", "OK")),
        1e-9);
    assertEquals(1.0, text.value("cvm_grpc_requests_seconds_bucket",
        Map.of("method", "CreateVm", "status", "OK", "le", "0.05")));
    assertEquals(1.0, text.value("cvm_grpc_requests_seconds_count",
        Map.of("method", "RemoveVm", "status", "NOT_FOUND")));
    assertEquals("histogram", text.type("cvm_grpc_requests_seconds"));
    assertEquals(1.0, text.value("cvm_vm_create_seconds_count"));
    assertEquals(3.0, text.value("cvm_vm_create_seconds_sum"));
    assertEquals(1.0, text.value("cvm_vm_create_failures_total", Map.of("kind", "RESOURCE_EXHAUSTED")));
    assertEquals(1.0, text.value("cvm_vm_remove_seconds_count"));
    assertEquals(2.0, text.value("cvm_qemu_exits_total", Map.of("cause", "killed")));
    assertEquals(3.0, text.value("cvm_vms", Map.of("state", "RUNNING")));
    assertEquals(1.0, text.value("cvm_vms", Map.of("state", "STOPPING")));
    assertEquals(0.0, text.value("cvm_vms", Map.of("state", "FAILED")));
  }

  @Test
  void aLaterVmStateSupplierReplacesTheEarlierOne() {
    ManagerMetrics metrics = ManagerMetrics.create();
    metrics.vmStates(() -> Map.of("RUNNING", 5));
    metrics.vmStates(() -> Map.of("RUNNING", 2));
    assertEquals(2.0, PrometheusText.parse(metrics.scrape()).value("cvm_vms", Map.of("state", "RUNNING")));
  }

  @Test
  void aVmsUsageSeriesFollowItsLatestSampleAndGoWithIt() {
    ManagerMetrics metrics = ManagerMetrics.create();
    metrics.vmUsage(usage("vm-1", 1.5, 100 << 20));
    metrics.vmUsage(usage("vm-2", 0.25, 50 << 20));
    metrics.vmUsage(usage("vm-1", 4.0, 120 << 20));

    PrometheusText text = PrometheusText.parse(metrics.scrape());
    assertEquals("counter", text.type("cvm_vm_cpu_seconds_total"));
    assertEquals("gauge", text.type("cvm_vm_memory_rss_bytes"));
    assertEquals(4.0, text.value("cvm_vm_cpu_seconds_total", Map.of("vm", "vm-1")));
    assertEquals(120.0 * (1 << 20), text.value("cvm_vm_memory_rss_bytes", Map.of("vm", "vm-1")));
    assertEquals(0.25, text.value("cvm_vm_cpu_seconds_total", Map.of("vm", "vm-2")));

    metrics.vmGone("vm-1");
    String scrape = metrics.scrape();
    assertFalse(scrape.contains("vm=\"vm-1\""), scrape);
    assertEquals(0.25, PrometheusText.parse(scrape).value("cvm_vm_cpu_seconds_total", Map.of("vm", "vm-2")));
    // Back under the same id (a new VM): registered again.
    metrics.vmUsage(usage("vm-1", 0.5, 10 << 20));
    assertEquals(0.5, PrometheusText.parse(metrics.scrape()).value("cvm_vm_cpu_seconds_total", Map.of("vm", "vm-1")));
  }

  private static VmUsage usage(String vm, double cpuSeconds, long rssBytes) {
    return new VmUsage(vm, 42, cpuSeconds, rssBytes, 10, Instant.now(), Map.of());
  }
}
