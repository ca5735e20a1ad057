package io.cvmmanager.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.ManagerServiceGrpcClient;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Future;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CreateVm whose reply cannot reach its client leaves no VM: the client cancels, its deadline passes, its
 * connection drops, or the API's request to the launcher times out, while the fake QEMU holds the create at its QMP
 * handshake. Once the fake is let go, the create is undone: no VM, process, file or port is left, and the manager
 * answers later calls as before.
 */
class UndeliveredCreateTest {
  @TempDir
  Path stateDir;

  private TestManager start(Map<String, String> extra) throws Exception {
    Map<String, String> settings = new HashMap<>(extra);
    settings.put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(stateDir, "hold=qmp_capabilities").toString());
    return TestManager.start(stateDir, TestPorts.range(2), settings);
  }

  private static Future<GrpcClientRequest<CreateReq, CreateRes>> createRequest(GrpcClient client,
      TestManager manager) {
    return client.request(manager.server(), ManagerServiceGrpcClient.CreateVm);
  }

  /** The held VM's create, once let go, is undone; nothing is left; the manager answers as before. */
  private void assertUndoneOnceReleased(TestManager manager, Path vmDir) throws Exception {
    FakeQemu.release(vmDir, "qmp_capabilities");
    await().atMost(Duration.ofSeconds(20)).untilAsserted(manager::assertNothingLeft);
    assertEquals(GrpcStatus.NOT_FOUND, manager.info(vmDir.getFileName().toString()).status());
  }

  @Test
  void aCreateTheClientCancelsIsUndone() throws Exception {
    try (TestManager manager = start(Map.of())) {
      GrpcClient client = manager.newClient();
      GrpcClientRequest<CreateReq, CreateRes> request = createRequest(client, manager).await();
      request.end(CreateReq.getDefaultInstance());
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "qmp_capabilities");
      request.cancel();
      assertUndoneOnceReleased(manager, vmDir);
      client.close().await();
    }
  }

  @Test
  void aCreateWhoseDeadlinePassesIsUndone() throws Exception {
    try (TestManager manager = start(Map.of())) {
      GrpcClient client = manager.newClient();
      GrpcClientRequest<CreateReq, CreateRes> request = createRequest(client, manager).await();
      // The deadline travels as grpc-timeout; the manager, not only the client, acts on it.
      request.timeout(500, TimeUnit.MILLISECONDS);
      Future<GrpcClientResponse<CreateReq, CreateRes>> response = request.send(CreateReq.getDefaultInstance());
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "qmp_capabilities");
      await().atMost(Duration.ofSeconds(10)).until(response::isComplete);
      GrpcClientResponse<CreateReq, CreateRes> answered = response.await();
      answered.end().otherwiseEmpty().await();
      assertEquals(GrpcStatus.DEADLINE_EXCEEDED, answered.status(), answered.statusMessage());
      assertUndoneOnceReleased(manager, vmDir);
      client.close().await();
    }
  }

  @Test
  void aCreateWhoseConnectionDropsIsUndone() throws Exception {
    try (TestManager manager = start(Map.of())) {
      GrpcClient client = manager.newClient();
      createRequest(client, manager).await().end(CreateReq.getDefaultInstance());
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "qmp_capabilities");
      client.close().await();
      assertUndoneOnceReleased(manager, vmDir);
    }
  }

  /** MANAGER_GRPC_TIMEOUT bounds the API's wait for the launcher: the client gets a status, the create is undone. */
  @Test
  void aCreateWhoseLauncherRequestTimesOutIsUndone() throws Exception {
    try (TestManager manager = start(Map.of("MANAGER_GRPC_TIMEOUT", "1s"))) {
      Future<UnaryCall.Result<CreateRes>> create = manager.createAsync(CreateReq.getDefaultInstance());
      Path vmDir = FakeQemu.awaitHeldVm(stateDir, "qmp_capabilities");
      UnaryCall.Result<CreateRes> result = create.await();
      assertTrue(List.of(GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.UNAVAILABLE).contains(result.status()),
          result.status() + " " + result.message());
      assertUndoneOnceReleased(manager, vmDir);
    }
  }
}
