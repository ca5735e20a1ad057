package io.cvmmanager.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.parsetools.RecordParser;
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

  /**
   * A command QEMU does not answer, bounded by the caller's Future.timeout (as the stop sequence bounds each step):
   * what follows the timeout runs on the connection's event loop, not on Netty's global thread, where it would race
   * the launcher's own work on its VM table.
   */
  @Test
  void aCallersTimeoutOnACommandFiresOnTheConnectionsEventLoop() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Path socket = dir.resolve("qmp.sock");
      NetServer qemu = vertx.createNetServer().connectHandler(peer -> {
        peer.handler(RecordParser.newDelimited("\n", line -> {
          if (line.toString().contains("qmp_capabilities")) {
            peer.write("{\"return\": {}, \"id\": \"cvm-0\"}\n");
          }
        }));
        peer.write("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n");
      });
      qemu.listen(SocketAddress.domainSocketAddress(socket.toString())).await();
      Context context = vertx.getOrCreateContext();
      String thread = Future.<String>future(done -> context.runOnContext(v ->
          QmpClient.connect(vertx, QmpClient.netClient(vertx), socket, Duration.ofSeconds(10))
              .compose(client -> client.execute("system_powerdown").timeout(50, TimeUnit.MILLISECONDS))
              .onComplete(ar -> done.complete(Thread.currentThread().getName()))))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertTrue(thread.startsWith("vert.x-eventloop-thread-"), thread);
    } finally {
      vertx.close().await();
    }
  }
}
