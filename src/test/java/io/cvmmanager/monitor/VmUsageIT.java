package io.cvmmanager.monitor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.metrics.PrometheusText;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-VM usage of real TCG guests, sampled every second: a booting guest's CPU seconds rise, a paused one's stay
 * flat; GetVm shows the sample; the series go with the VM; under sudo the sample is QEMU's.
 */
class VmUsageIT {
  private static final String CVM = "cvm.v1.CvmService";
  private static final String CPU = "cvm_vm_cpu_seconds_total";
  private static final String RSS = "cvm_vm_memory_rss_bytes";
  /** Long enough for a paused QEMU's main loop to show what it burns, short enough for a test. */
  private static final Duration FLAT_WINDOW = Duration.ofSeconds(5);

  private record Sample(double cpuSeconds, Instant at) {}

  private static Map<String, String> everySecond(boolean paused) {
    return Map.of("MANAGER_USAGE_INTERVAL", "1s", "MANAGER_QEMU_START_PAUSED", String.valueOf(paused));
  }

  private static Vm get(TestManager manager, String id) {
    return manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
        Vm.newBuilder()).response();
  }

  /** GetVm's sample once there is one newer than {@code after}. */
  private static Sample sampleAfter(TestManager manager, String id, Instant after, Duration within) {
    Vm vm = await().atMost(within).until(() -> get(manager, id),
        found -> found.hasSampledAt() && at(found).isAfter(after));
    return new Sample(vm.getCpuSeconds(), at(vm));
  }

  private static Instant at(Vm vm) {
    return Instant.ofEpochSecond(vm.getSampledAt().getSeconds(), vm.getSampledAt().getNanos());
  }

  @Test
  void cpuSecondsRiseForABootingGuestAndStayFlatForAPausedOne(@TempDir Path bootingDir, @TempDir Path pausedDir)
      throws Exception {
    try (TestManager booting = TestManager.start(bootingDir, TestPorts.range(2), everySecond(false));
        TestManager paused = TestManager.start(pausedDir, TestPorts.range(2), everySecond(true))) {
      String bootingId = booting.create(CreateReq.getDefaultInstance()).response().getCvmId();
      String pausedId = paused.create(CreateReq.getDefaultInstance()).response().getCvmId();

      Sample pausedFirst = sampleAfter(paused, pausedId, Instant.EPOCH, Duration.ofSeconds(10));
      Sample bootingFirst = sampleAfter(booting, bootingId, Instant.EPOCH, Duration.ofSeconds(10));
      Sample pausedLater = sampleAfter(paused, pausedId, pausedFirst.at().plus(FLAT_WINDOW), Duration.ofSeconds(20));
      Sample bootingLater = sampleAfter(booting, bootingId, bootingFirst.at().plus(FLAT_WINDOW),
          Duration.ofSeconds(20));
      double pausedRise = pausedLater.cpuSeconds() - pausedFirst.cpuSeconds();
      double bootingRise = bootingLater.cpuSeconds() - bootingFirst.cpuSeconds();
      System.out.printf("cpu seconds over %s: booting +%.2f (%.2f -> %.2f), paused +%.2f (%.2f -> %.2f)%n",
          Duration.between(bootingFirst.at(), bootingLater.at()), bootingRise, bootingFirst.cpuSeconds(),
          bootingLater.cpuSeconds(), pausedRise, pausedFirst.cpuSeconds(), pausedLater.cpuSeconds());
      assertTrue(bootingRise > 1.0, "a booting TCG guest uses CPU: +" + bootingRise);
      assertTrue(pausedRise < 0.2, "a paused guest's QEMU only runs its main loop: +" + pausedRise);

      // The metric is the same sample; TCG has no stats provider, so no KVM stats.
      Vm vm = get(booting, bootingId);
      PrometheusText metrics = booting.metrics();
      assertTrue(metrics.value(CPU, Map.of("vm", bootingId)) >= bootingLater.cpuSeconds(), metrics.toString());
      assertTrue(vm.getMemoryRssBytes() > 16L << 20 && metrics.value(RSS, Map.of("vm", bootingId)) > 16L << 20,
          vm.toString());
      assertTrue(vm.getUptimeSeconds() >= FLAT_WINDOW.toSeconds() && vm.getUptimeSeconds() < 120, vm.toString());
      assertEquals(Map.of(), vm.getKvmStatsMap());

      assertEquals(GrpcStatus.OK, booting.remove(bootingId).status());
      PrometheusText afterRemove = booting.metrics();
      assertNull(afterRemove.value(CPU, Map.of("vm", bootingId)), "no series left for a gone VM");
      assertNull(afterRemove.value(RSS, Map.of("vm", bootingId)), "no series left for a gone VM");
    }
  }

  @Test
  void underSudoTheSampleIsQemusNotSudos(@TempDir Path stateDir) throws Exception {
    Map<String, String> sudo = new HashMap<>(everySecond(true));
    sudo.put("MANAGER_QEMU_USE_SUDO", "true");
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2), sudo)) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      sampleAfter(manager, id, Instant.EPOCH, Duration.ofSeconds(10));
      long sudoPid = get(manager, id).getPid();
      long qemuPid = Long.parseLong(Files.readString(manager.vmDir(id).resolve("qemu.pid")).strip());
      assertTrue(sudoPid != qemuPid, "the launcher holds sudo");
      // A paused QEMU's RSS barely moves between samples: the sample is near QEMU's, far from sudo's few MiB.
      long sudoRss = rssBytes(sudoPid);
      long qemuRss = rssBytes(qemuPid);
      long sampled = get(manager, id).getMemoryRssBytes();
      System.out.printf("under sudo: sampled RSS %d, QEMU's %d, sudo's %d%n", sampled, qemuRss, sudoRss);
      assertTrue(Math.abs(sampled - qemuRss) < Math.abs(sampled - sudoRss),
          "RSS " + sampled + " is QEMU's (" + qemuRss + "), not sudo's (" + sudoRss + ")");
    }
  }

  private static long rssBytes(long pid) throws Exception {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
        .map(l -> Long.parseLong(l.replaceAll("\\D", "")) * 1024).findFirst().orElseThrow();
  }
}
