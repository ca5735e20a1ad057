package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.TestManager;
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

  private TestManager start(int first, int last) throws Exception {
    return TestManager.start(stateDir, new PortRange(first, last), Map.of(
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
    try (TestManager manager = start(27600, 27601)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      atSpawn(27600, true);
      atSpawn(27601, false);
      UnaryCall.Result<CreateRes> created = create.await();
      assertEquals(GrpcStatus.OK, created.status(), created.message());
      assertEquals("27601", created.response().getForwardedPort());
      assertFalse(TestManager.bindable(27601), "the VM's QEMU listens on its port");
      assertEquals(GrpcStatus.OK, manager.remove(created.response().getCvmId()).status());
      taken.get(0).close();
      manager.assertNothingLeft();
    }
  }

  @Test
  void noOtherFreePortIsUnavailableNamingTheTakenPort() throws Exception {
    try (TestManager manager = start(27602, 27602)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      atSpawn(27602, true);
      UnaryCall.Result<CreateRes> failed = create.await();
      assertEquals(GrpcStatus.UNAVAILABLE, failed.status(), failed.message());
      assertTrue(failed.message().contains("host port 27602 was taken by another program"), failed.message());
      taken.get(0).close();
      manager.assertNothingLeft();
    }
  }

  @Test
  void aPortTakenAtEveryAttemptIsUnavailableAfterThreePorts() throws Exception {
    try (TestManager manager = start(27603, 27606)) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      for (int port = 27603; port <= 27605; port++) {
        atSpawn(port, true);
      }
      UnaryCall.Result<CreateRes> failed = create.await();
      assertEquals(GrpcStatus.UNAVAILABLE, failed.status(), failed.message());
      assertTrue(failed.message().contains("host port 27605 was taken by another program before QEMU could bind it"
          + " (3 ports tried)"), failed.message());
      assertTrue(failed.message().contains("Could not set up host forwarding rule 'tcp::27605-:"), failed.message());
      assertFalse(Files.exists(stateDir.resolve("spawn.27606")), "a fourth port was tried");
      for (ServerSocket socket : taken) {
        socket.close();
      }
      manager.assertNothingLeft();
    }
  }
}
