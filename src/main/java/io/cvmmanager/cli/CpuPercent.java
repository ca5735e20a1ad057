package io.cvmmanager.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * Each VM's CPU % between its two latest usage samples: the CPU seconds QEMU used in between over the wall time in
 * between (100 % is one host CPU's worth, as in top). The manager samples every MANAGER_USAGE_INTERVAL while top
 * refreshes every second, so a frame without a new sample shows the last figure; a VM seen once has none yet.
 */
final class CpuPercent {
  private record Sample(double cpuSeconds, Instant at) {}

  private final Map<String, Sample> latest = new HashMap<>();
  private final Map<String, Sample> previous = new HashMap<>();

  /** Takes the VM's sample (the same one again changes nothing) and returns its CPU %, if there are two samples. */
  OptionalDouble update(String vm, double cpuSeconds, Instant sampledAt) {
    Sample last = latest.get(vm);
    if (last == null || sampledAt.isAfter(last.at())) {
      if (last != null) {
        previous.put(vm, last);
      }
      latest.put(vm, new Sample(cpuSeconds, sampledAt));
    }
    Sample before = previous.get(vm);
    Sample now = latest.get(vm);
    return before == null ? OptionalDouble.empty() : percent(before.cpuSeconds(), before.at(), now.cpuSeconds(),
        now.at());
  }

  /** Forgets the VMs not in {@code present} (removed since the last frame). */
  void keepOnly(Set<String> present) {
    latest.keySet().retainAll(present);
    previous.keySet().retainAll(present);
  }

  static OptionalDouble percent(double cpuBefore, Instant before, double cpuNow, Instant now) {
    double wall = Duration.between(before, now).toNanos() / 1e9;
    return wall <= 0 ? OptionalDouble.empty() : OptionalDouble.of(Math.max(0, cpuNow - cpuBefore) / wall * 100);
  }
}
