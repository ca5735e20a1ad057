package io.cvmmanager.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QmpClientTest {
  @TempDir
  Path dir;

  /**
   * A socket that never comes (an adopted QEMU killed before it made it) is retried every 2 ms until the bound: the
   * several thousand retries end in one Timeout, not in a stack overflow that kills the event loop.
   */
  @Test
  void aSocketThatNeverComesFailsWithTimeoutAfterThousandsOfRetries() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      NetClient net = QmpClient.netClient(vertx);
      Throwable failure = QmpClient.connect(vertx, net, dir.resolve("qmp.sock"), Duration.ofSeconds(10))
          .toCompletionStage().toCompletableFuture()
          .handle((client, error) -> error)
          .get(30, TimeUnit.SECONDS);
      QmpException timeout = assertInstanceOf(QmpException.class, failure);
      assertEquals("Timeout", timeout.errorClass(), timeout.getMessage());
    } finally {
      vertx.close().await();
    }
  }
}
