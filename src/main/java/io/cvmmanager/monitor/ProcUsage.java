package io.cvmmanager.monitor;

import io.cvmmanager.process.StatFields;
import io.cvmmanager.vm.VmUsage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a VM's QEMU uses, read from {@code /proc}: CPU time ({@code stat}'s utime + stime, which count every thread
 * of the process, so {@code task/} need not be read; children are not counted, and QEMU has none that run guest
 * code), resident memory ({@code status}' VmRSS) and uptime ({@code stat}'s start time against {@code
 * /proc/uptime}). The reads block (procfs has no asynchronous interface): call it from a worker.
 */
final class ProcUsage {
  /**
   * USER_HZ, the unit of stat's times: the kernel reports them in 1/100 s to user space on x86-64 and arm64
   * whatever its own HZ ({@code getconf CLK_TCK} says 100).
   */
  static final long TICKS_PER_SECOND = 100;

  private final Path proc;

  /** {@code proc}: where procfs is mounted ({@code /proc}; a tree of fake files in tests). */
  ProcUsage(Path proc) {
    this.proc = proc;
  }

  /**
   * One sample of the VM's QEMU, or empty when it is gone or a zombie. QEMU is the process its pid file names when
   * that process's command line names this VM ({@code -name cvm-<id>}): under sudo the launcher holds sudo, whose
   * own usage is not the VM's; without sudo the two are the same, and {@code launcherPid} is the fallback while the
   * pid file is missing or stale.
   */
  Optional<VmUsage> sample(String id, Path pidFile, long launcherPid, Instant now) {
    long pid = fromPidFile(id, pidFile).orElse(launcherPid);
    try {
      Path dir = proc.resolve(Long.toString(pid));
      return Optional.ofNullable(parse(id, pid, read(dir.resolve("stat")), read(dir.resolve("status")),
          read(proc.resolve("uptime")), now));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private Optional<Long> fromPidFile(String id, Path pidFile) {
    try {
      long pid = Long.parseLong(read(pidFile).trim());
      List<String> args = Arrays.asList(read(proc.resolve(pid + "/cmdline")).split("\0"));
      int name = args.indexOf("-name");
      return name >= 0 && name + 1 < args.size() && args.get(name + 1).equals("cvm-" + id)
          ? Optional.of(pid) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A sample from the texts of stat, status and /proc/uptime; null for a zombie. Package-visible for tests. */
  static VmUsage parse(String id, long pid, String stat, String status, String uptime, Instant now) {
    String[] fields = StatFields.of(stat);
    if (fields[0].equals("Z")) {
      return null;
    }
    // Fields 14 (utime), 15 (stime) and 22 (starttime) of stat; fields[0] is field 3.
    long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    double started = Long.parseLong(fields[19]) / (double) TICKS_PER_SECOND;
    double sinceBoot = Double.parseDouble(uptime.trim().split("\\s+")[0]);
    return new VmUsage(id, pid, ticks / (double) TICKS_PER_SECOND, rssBytes(status),
        Math.max(0, sinceBoot - started), now, Map.of());
  }

  /** status' {@code VmRSS:  1234 kB}; 0 when it has none (a kernel thread, a process exiting). */
  private static long rssBytes(String status) {
    return status.lines().filter(line -> line.startsWith("VmRSS:")).findFirst()
        .map(line -> Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").trim()) * 1024)
        .orElse(0L);
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.ISO_8859_1);
  }
}
