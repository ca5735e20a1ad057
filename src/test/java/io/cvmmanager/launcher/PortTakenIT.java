package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host port taken by another program between the pool's reservation and QEMU's bind of it (real QEMU, which then
 * exits with "Could not set up host forwarding rule"): the create retries on another port, or fails UNAVAILABLE
 * naming the port; never a VM without its port, and nothing left. The race is made, not waited for: QEMU is started
 * through a wrapper that, before exec'ing it, says which port it was given and waits until the test has had its
 * turn (taken the port, or not).
 */
class PortTakenIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path stateDir;
  private final List<ServerSocket> taken = new ArrayList<>();

  @AfterEach
  void freePorts() throws IOException {
    for (ServerSocket socket : taken) {
      socket.close();
    }
  }

  /**
   * A QEMU that writes {@code <stateDir>/spawn.<port>} and waits for {@code <stateDir>/go.<port>}, then execs the
   * real one.
   */
  private Path wrapper() throws IOException {
    Path wrapper = stateDir.resolve("qemu-wrapper.sh");
    Files.writeString(wrapper, "#!/bin/sh\n"
        + "port=$(printf '%s\\n' \"$@\" | sed -n 's/.*hostfwd=tcp::\\([0-9]*\\)-.*/\\1/p')\n"
        + ": > " + stateDir + "/spawn.$port\n"
        + "while [ ! -e " + stateDir + "/go.$port ]; do sleep 0.01; done\n"
        + "exec qemu-system-x86_64 \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
    return wrapper;
  }

  private TestManager start(PortRange ports) throws Exception {
    return TestManager.start(stateDir, ports, Map.of(
        "MANAGER_QEMU_BIN_PATH", wrapper().toString(),
        "MANAGER_QEMU_START_PAUSED", "true",
        "MANAGER_QEMU_MEMORY_SIZE", "128M"));
  }

  /** Waits for QEMU's start on {@code port}, then lets it go on, having taken the port first when {@code take}. */
  private void atSpawn(int port, boolean take) throws IOException {
    await().atMost(WAIT).until(() -> Files.exists(stateDir.resolve("spawn." + port)));
    if (take) {
      ServerSocket socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("0.0.0.0", port));
      taken.add(socket);
    }
    Files.createFile(stateDir.resolve("go." + port));
  }

  @Test
  void aPortTakenBeforeQemuBindsItIsGivenUpForAnother() throws Exception {
    PortRange ports = TestPorts.range(2);
    try (TestManager manager = start(ports)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      atSpawn(ports.first(), true);
      atSpawn(ports.last(), false);
      UnaryCall.Result<CreateRes> created = create.await();
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      assertEquals(String.valueOf(ports.last()), created.response().getForwardedPort());
      assertFalse(TestManager.bindable(ports.last()), "the VM's QEMU listens on its port");
      assertEquals(GrpcStatus.OK, manager.remove(created.response().getCvmId()).status());
      taken.get(0).close();
      manager.assertNothingLeft();
    }
  }

  @Test
  void noOtherFreePortIsUnavailableNamingTheTakenPort() throws Exception {
    PortRange ports = TestPorts.range(1);
    try (TestManager manager = start(ports)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      atSpawn(ports.first(), true);
      UnaryCall.Result<CreateRes> failed = create.await();
      assertEquals(GrpcStatus.UNAVAILABLE, failed.status(), failed.message());
      assertTrue(failed.message().contains("host port " + ports.first() + " was taken by another program"),
          failed.message());
      taken.get(0).close();
      manager.assertNothingLeft();
    }
  }

  @Test
  void aPortTakenAtEveryAttemptIsUnavailableAfterThreePorts() throws Exception {
    PortRange ports = TestPorts.range(4);
    int third = ports.first() + 2;
    try (TestManager manager = start(ports)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      for (int port = ports.first(); port <= third; port++) {
        atSpawn(port, true);
      }
      UnaryCall.Result<CreateRes> failed = create.await();
      assertEquals(GrpcStatus.UNAVAILABLE, failed.status(), failed.message());
      assertTrue(failed.message().contains("host port " + third + " was taken by another program before QEMU could"
          + " bind it (3 ports tried)"), failed.message());
      assertTrue(failed.message().contains("Could not set up host forwarding rule 'tcp::" + third + "-:"),
          failed.message());
      assertFalse(Files.exists(stateDir.resolve("spawn." + ports.last())), "a fourth port was tried");
      for (ServerSocket socket : taken) {
        socket.close();
      }
      manager.assertNothingLeft();
    }
  }
}
