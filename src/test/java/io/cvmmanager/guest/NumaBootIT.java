package io.cvmmanager.guest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.qemu.LaunchInput;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.testing.DevGuest;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spread plan's guest topology boots for real: the dev guest under TCG with the command line {@link QemuCommand}
 * builds for a VM spread over two host nodes (here both backends {@code host-nodes=0}: this host has one node),
 * started as the launcher starts it ({@code setsid}, then the {@link QemuCommand#numactl} prefix, which execs QEMU in
 * place), and the guest kernel's console shows the two NUMA nodes it was given.
 */
class NumaBootIT {
  private static final long MIB = 1L << 20;
  private Process qemu;

  @AfterEach
  void stop() throws Exception {
    if (qemu != null && qemu.isAlive()) {
      qemu.destroyForcibly();
      qemu.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSpreadVmsGuestSeesTwoNumaNodes(@TempDir Path stateDir) throws Exception {
    ManagerConfig config = DevGuest.tcgConfig(stateDir, Map.of(
        "MANAGER_QEMU_SMP_COUNT", "2",
        "MANAGER_QEMU_SMP_MAXCPUS", "2",
        "MANAGER_QEMU_MEMORY_SIZE", "512M"));
    String id = UUID.randomUUID().toString();
    VmPaths paths = DevGuest.vmDir(config, id);
    Placement spread = new Placement(Placement.Plan.SPREAD, List.of(new Placement.Share(0, 256 * MIB),
        new Placement.Share(0, 256 * MIB)));
    LaunchInput input = new LaunchInput(config.qemu(), Tee.NONE, VmCreateRequest.fromJson(new JsonObject()), id,
        paths, TestPorts.range(1).first(), Optional.empty(), Optional.empty(), spread);
    List<String> qemuArgs = QemuCommand.build(input);
    assertTrue(String.join(" ", qemuArgs).contains("-numa node,nodeid=1,memdev=ram1-node1,cpus=1"), qemuArgs::toString);
    List<String> command = new ArrayList<>(List.of("setsid"));
    command.addAll(QemuCommand.numactl(input.tee(), spread));
    command.addAll(qemuArgs);
    assertEquals(List.of("setsid", "numactl", "--cpunodebind=0"), command.subList(0, 3));

    long started = System.nanoTime();
    qemu = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(paths.dir().resolve("qemu.out").toFile()).start();
    await().atMost(Duration.ofSeconds(50)).pollInterval(Duration.ofMillis(250)).until(() -> {
      assertTrue(qemu.isAlive(), () -> "QEMU exited: " + readQuietly(paths.dir().resolve("qemu.out")));
      return readQuietly(paths.consoleLog()).contains("cvm-guest: up");
    });
    System.out.printf("spread guest: exec to cvm-guest: up in %.2f s (TCG)%n", (System.nanoTime() - started) / 1e9);
    // setsid and numactl exec'd in place: the process spawned is QEMU, with the command line adoption compares.
    assertEquals(qemuArgs.get(0), Path.of(qemu.info().command().orElseThrow()).getFileName().toString());
    assertEquals(qemuArgs, List.of(Files.readString(Path.of("/proc/" + qemu.pid() + "/cmdline")).split("\0")));

    List<String> numaLines = readQuietly(paths.consoleLog()).lines()
        .filter(line -> line.contains("NUMA") || line.contains("Initmem setup node") || line.contains("SRAT"))
        .toList();
    numaLines.forEach(line -> System.out.println("guest console: " + line));
    assertTrue(numaLines.stream().anyMatch(line -> line.contains("Initmem setup node 0")), numaLines::toString);
    assertTrue(numaLines.stream().anyMatch(line -> line.contains("Initmem setup node 1")), numaLines::toString);

    qemu.destroy();
    assertTrue(qemu.waitFor(10, TimeUnit.SECONDS), "QEMU still running after SIGTERM");
    assertTrue(ProcessHandle.of(qemu.pid()).isEmpty(), "QEMU process " + qemu.pid() + " still exists");
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }
}
