package io.cvmmanager.tracing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar with no collector at COCOS_JAEGER_URL: spans are exported and fail, and all that shows is a
 * debug line in the manager's own JSON log, never an error or a warning, never java.util.logging's stderr format.
 */
class TracingQuietIT {
  @TempDir
  Path dir;

  @Test
  void failedExportsAreDebugLinesOnly() throws Exception {
    int grpcPort = FreePort.next();
    Map<String, String> env = new HashMap<>();
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "false");
    env.put("MANAGER_QEMU_ENABLE_TDX", "false");
    env.put("MANAGER_QEMU_DISK_IMG_KERNEL_FILE", Files.writeString(dir.resolve("bzImage"), "").toString());
    env.put("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", Files.writeString(dir.resolve("rootfs.cpio.gz"), "").toString());
    env.put("MANAGER_STATE_DIR", dir.resolve("state").toString());
    env.put("MANAGER_HOST_ROOT", dir.resolve("host").toString());
    env.put("MANAGER_GRPC_PORT", String.valueOf(grpcPort));
    env.put("MANAGER_HTTP_PORT", String.valueOf(FreePort.next()));
    env.put("MANAGER_LOG_LEVEL", "debug");
    env.put("MANAGER_LOG_FORMAT", "json");
    env.put("COCOS_JAEGER_URL", "http://127.0.0.1:" + FreePort.next());

    Vertx vertx = Vertx.vertx();
    try (ManagerProcess manager = ManagerProcess.start(null, env, dir)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> manager.output().contains("gRPC listening")
          || !manager.isAlive());
      assertTrue(manager.isAlive(), manager.output());
      GrpcClient client = UnaryCall.client(vertx,
          new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      UnaryCall.Result<CVMInfoRes> info = UnaryCall.<CVMInfoReq, CVMInfoRes>call(client,
          SocketAddress.inetSocketAddress(grpcPort, "localhost"), "manager.ManagerService", "CVMInfo",
          CVMInfoReq.newBuilder().setId("no-such-vm").build(), CVMInfoRes.newBuilder()).await();
      assertEquals(GrpcStatus.NOT_FOUND, info.status());

      await().atMost(Duration.ofSeconds(30)).until(() -> lines(manager.output()).stream()
          .anyMatch(l -> l.getString("logger").startsWith("io.opentelemetry") && isExportFailure(l)));
      manager.terminate();
      manager.awaitExit(60);
      assertTrue(manager.output().contains("stopping"), manager.output());

      List<JsonObject> lines = lines(manager.output());
      for (JsonObject line : lines) {
        if (isExportFailure(line) || line.getString("logger").startsWith("io.opentelemetry")) {
          assertEquals("DEBUG", line.getString("level"), line.encode());
        }
      }
      assertTrue(lines.stream().noneMatch(l -> l.getString("level").equals("ERROR")), manager.output());
    } finally {
      vertx.close().await();
    }
  }

  private static boolean isExportFailure(JsonObject line) {
    return line.getString("msg").toLowerCase(java.util.Locale.ROOT).contains("failed to export");
  }

  /** Every line of the output as a JSON object; a line that is not one fails the test. */
  private static List<JsonObject> lines(String output) {
    return output.lines().filter(l -> !l.isEmpty()).map(l -> {
      try {
        return new JsonObject(l);
      } catch (DecodeException e) {
        throw new AssertionError("not a JSON log line: " + l + "\nwhole output:\n" + output);
      }
    }).toList();
  }
}
