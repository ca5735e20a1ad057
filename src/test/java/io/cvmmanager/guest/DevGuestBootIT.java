package io.cvmmanager.guest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.qemu.LaunchInput;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.qmp.QmpClient;
import io.cvmmanager.testing.AgentProbe;
import io.cvmmanager.testing.DevGuest;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The development guest boots for real with the command line {@link QemuCommand} builds (TCG, OVMF pflash, the
 * upstream non-TEE path), its agent answers through the forwarded host port with the id and certificates handed
 * over 9p, and QMP {@code quit} ends QEMU.
 */
class DevGuestBootIT {
  private Vertx vertx;
  private Process qemu;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    if (qemu != null && qemu.isAlive()) {
      qemu.destroyForcibly();
      qemu.waitFor(10, TimeUnit.SECONDS);
    }
    vertx.close().await();
  }

  @Test
  void devGuestBootsAndItsAgentAnswersThroughTheForwardedPort(@TempDir Path stateDir) throws Exception {
    ManagerConfig config = DevGuest.tcgConfig(stateDir, Map.of(
        "MANAGER_QEMU_SMP_COUNT", "1",
        "MANAGER_QEMU_MEMORY_SIZE", "1024M"));
    String id = UUID.randomUUID().toString();
    VmPaths paths = DevGuest.vmDir(config, id);
    for (String name : List.of("cert.pem", "key.pem", "ca.pem")) {
      Files.writeString(paths.certs().resolve(name), "test " + name + "\n");
    }
    Files.writeString(paths.env().resolve("environment"), "AGENT_CVM_ID='" + id + "'\n");
    int port = FreePort.next();
    List<String> args = QemuCommand.build(new LaunchInput(config.qemu(), Tee.NONE,
        VmCreateRequest.fromJson(new JsonObject()), id, paths, port, Optional.empty(),
        Optional.empty()));

    long started = System.nanoTime();
    qemu = new ProcessBuilder(args).redirectErrorStream(true)
        .redirectOutput(paths.dir().resolve("qemu.out").toFile()).start();
    NetClient net = QmpClient.netClient(vertx);
    QmpClient qmp = QmpClient.connect(vertx, net, paths.qmpSocket(), Duration.ofSeconds(10)).await();
    Object status = qmp.execute("query-status").await();
    assertTrue(String.valueOf(status).contains("running"), "query-status: " + status);

    AtomicReference<String> agentLine = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
      assertTrue(qemu.isAlive(), () -> "QEMU exited: " + readQuietly(paths.dir().resolve("qemu.out")));
      AgentProbe.readLine(port).ifPresent(agentLine::set);
      return agentLine.get() != null;
    });
    double bootSeconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("dev guest: QEMU exec to agent line in %.2f s (TCG)%n", bootSeconds);

    assertEquals("cvm-agent ready id=" + id + " certs=ca.pem,cert.pem,key.pem", agentLine.get());
    assertTrue(readQuietly(paths.consoleLog()).contains("cvm-guest: up"), "console.log lacks cvm-guest: up");

    qmp.execute("quit").recover(e -> io.vertx.core.Future.succeededFuture()).await();
    qmp.closeFuture().await();
    assertTrue(qemu.waitFor(10, TimeUnit.SECONDS), "QEMU still running after QMP quit");
    assertFalse(qemu.isAlive());
    assertTrue(ProcessHandle.of(qemu.pid()).isEmpty(), "QEMU process " + qemu.pid() + " still exists");
    net.close().await();
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (Exception e) {
      return "(unreadable: " + e + ")";
    }
  }
}
