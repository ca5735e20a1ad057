package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's second command: the packaged jar started with conf/dev.env answers health and CVMInfo. */
class DevProfileIT {
  @Test
  void jarStartsWithDevProfileAndAnswersHealthAndCvmInfo(@TempDir Path dir) throws Exception {
    int grpcPort = FreePort.next();
    Map<String, String> overrides = Map.of(
        "MANAGER_GRPC_PORT", String.valueOf(grpcPort),
        "MANAGER_HTTP_PORT", String.valueOf(FreePort.next()),
        "MANAGER_STATE_DIR", dir.resolve("state").toString(),
        // A paused VM answers CVMInfo as a booted one does; nothing here needs the guest to run.
        "MANAGER_QEMU_START_PAUSED", "true");
    Vertx vertx = Vertx.vertx();
    GrpcClient client = UnaryCall.client(vertx,
        new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    SocketAddress server = SocketAddress.inetSocketAddress(grpcPort, "localhost");
    try (ManagerProcess manager = ManagerProcess.start(Path.of("conf/dev.env"), overrides, dir)) {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().untilAsserted(() -> {
        assertTrue(manager.isAlive(), "manager exited:\n" + manager.output());
        UnaryCall.Result<HealthCheckResponse> health = UnaryCall.<HealthCheckRequest, HealthCheckResponse>call(
            client, server, "grpc.health.v1.Health", "Check",
            HealthCheckRequest.newBuilder().setService("manager").build(), HealthCheckResponse.newBuilder())
            .await();
        assertEquals(GrpcStatus.OK, health.status());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.response().getStatus());
      });

      String id = UnaryCall.<CreateReq, CreateRes>call(client, server, "manager.ManagerService", "CreateVm",
          CreateReq.getDefaultInstance(), CreateRes.newBuilder()).await().response().getCvmId();
      CVMInfoRes info = UnaryCall.<CVMInfoReq, CVMInfoRes>call(client, server, "manager.ManagerService", "CVMInfo",
          CVMInfoReq.newBuilder().setId(id).build(), CVMInfoRes.newBuilder()).await().response();
      assertEquals(1, info.getCpuNum(), "dev profile: MANAGER_QEMU_SMP_COUNT=1");
      assertEquals("max", info.getCpuType());
      assertEquals("console=ttyS0", info.getKernelCmd());
      assertEquals(GrpcStatus.OK, UnaryCall.<RemoveReq, Empty>call(client, server, "manager.ManagerService",
          "RemoveVm", RemoveReq.newBuilder().setCvmId(id).build(), Empty.newBuilder()).await().status());
      try (var vmDirs = Files.list(dir.resolve("state/vms"))) {
        assertTrue(vmDirs.findAny().isEmpty(), "VM directory left");
      }

      manager.terminate();
      manager.awaitExit(30);
      assertTrue(manager.output().contains("stopping"), manager.output());
    } finally {
      client.close().await();
      vertx.close().await();
    }
  }
}
