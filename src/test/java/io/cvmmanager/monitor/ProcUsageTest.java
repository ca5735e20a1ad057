package io.cvmmanager.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.vm.VmUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A QEMU's usage from a fake /proc: CPU time, RSS and uptime, the PID from qemu.pid when it names the VM. */
class ProcUsageTest {
  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
  /** utime 1234 and stime 566 ticks (18 s), started 50000 ticks (500 s) after boot; a comm with ") (" in it. */
  private static final String STAT = "4242 (qemu) (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 566 0 0 20 0 5 0"
      + " 50000 3000000000 123456 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  private static final String STATUS = "Name:\tqemu-system-x86\nState:\tS (sleeping)\nVmRSS:\t  524288 kB\n"
      + "Threads:\t5\n";

  @TempDir
  Path proc;

  private void process(long pid, String stat, String cmdline) throws IOException {
    Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
    Files.writeString(dir.resolve("stat"), stat);
    Files.writeString(dir.resolve("status"), STATUS);
    Files.writeString(dir.resolve("cmdline"), cmdline);
    Files.writeString(proc.resolve("uptime"), "620.25 1000.00\n");
  }

  @Test
  void cpuSecondsAreUtimePlusStimeRssFromVmRssUptimeFromTheStartTime() {
    VmUsage usage = ProcUsage.parse("vm-1", 4242, STAT, STATUS, "620.25 1000.00\n", NOW);
    assertEquals(18.0, usage.cpuSeconds(), 1e-9);
    assertEquals(512L * 1024 * 1024, usage.rssBytes());
    assertEquals(120.25, usage.uptimeSeconds(), 1e-9);
    assertEquals(NOW, usage.sampledAt());
  }

  @Test
  void aZombieHasNoUsage() {
    assertEquals(null, ProcUsage.parse("vm-1", 4242, STAT.replace(" S 1 ", " Z 1 "), STATUS, "620 0", NOW));
  }

  @Test
  void qemuIsThePidFilesProcessWhenItNamesTheVmNotTheSudoTheLauncherHolds() throws IOException {
    process(4241, "4241 (sudo) S 1 4241 4241 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 49990 0 0 0\n", "sudo\0qemu\0");
    process(4242, STAT, "qemu-system-x86_64\0-name\0cvm-vm-1\0-S\0");
    Files.writeString(proc.resolve("qemu.pid"), "4242\n");
    Optional<VmUsage> usage = new ProcUsage(proc).sample("vm-1", proc.resolve("qemu.pid"), 4241, NOW);
    assertEquals(4242, usage.orElseThrow().pid());
    assertEquals(18.0, usage.orElseThrow().cpuSeconds(), 1e-9);
  }

  @Test
  void aPidFileNamingAnotherProcessFallsBackToTheLaunchersPid() throws IOException {
    process(4242, STAT, "qemu-system-x86_64\0-name\0cvm-vm-2\0");
    process(4243, STAT.replace("4242", "4243"), "qemu-system-x86_64\0-name\0cvm-vm-1\0");
    Files.writeString(proc.resolve("qemu.pid"), "4242\n");
    assertEquals(4243, new ProcUsage(proc).sample("vm-1", proc.resolve("qemu.pid"), 4243, NOW).orElseThrow().pid());
  }

  @Test
  void aGoneProcessHasNoSample() {
    assertTrue(new ProcUsage(proc).sample("vm-1", proc.resolve("qemu.pid"), 4242, NOW).isEmpty());
  }
}
