package io.cvmmanager.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.testing.ScriptedQmpPeer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.parsetools.RecordParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QmpClient against QEMU's side played from a script ({@link ScriptedQmpPeer}): the handshake, replies and errors,
 * events between replies, a connection that ends mid-reply, and what is not QMP.
 */
class QmpClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final String HANDSHAKE = """
      greet
      -> qmp_capabilities
      <- {"return": {}, "id": $id}
      """;

  @TempDir
  Path dir;
  private Vertx vertx;
  /** The client's context: it is used, as in the launcher, from one event loop. */
  private Context context;
  private NetClient net;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    net = QmpClient.netClient(vertx);
  }

  @AfterEach
  void closeVertx() {
    vertx.close().await();
  }

  /**
   * {@code action} run on the client's context, for the test's thread to await: a result that never comes fails
   * after {@link #TIMEOUT} (twice the connect bound) instead of hanging the test.
   */
  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(result));
    return result.future().timeout(2 * TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private ScriptedQmpPeer peer(String script) {
    return ScriptedQmpPeer.listen(dir.resolve("qmp.sock"), script);
  }

  private Future<QmpClient> connect() {
    return onContext(() -> QmpClient.connect(vertx, net, dir.resolve("qmp.sock"), TIMEOUT));
  }

  private static Throwable failureOf(Future<?> future) {
    Throwable failure = future.transform(ar -> Future.succeededFuture(ar.cause())).await();
    assertTrue(failure != null, "succeeded: " + future.result());
    return failure;
  }

  @Test
  void theHandshakeNegotiatesCapabilitiesAndACommandGetsItsReturnValue() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> query-status
        <- {"return": {"status": "running", "singlestep": false, "running": true}, "id": $id}
        """)) {
      QmpClient client = connect().await();
      Object status = onContext(() -> client.execute("query-status")).await();
      assertEquals(new JsonObject().put("status", "running").put("singlestep", false).put("running", true), status);
      qemu.awaitPlayed();
    }
  }

  @Test
  void anErrorReplyFailsItsCommandWithQemusClassAndDescriptionAndTheConnectionGoesOn() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> no-such-command
        <- {"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}, "id": $id}
        -> query-status
        <- {"return": {"status": "paused", "running": false}, "id": $id}
        """)) {
      QmpClient client = connect().await();
      Throwable refused = failureOf(onContext(() -> client.execute("no-such-command")));
      assertInstanceOf(QmpException.class, refused);
      assertEquals("CommandNotFound: The command no-such-command has not been found", refused.getMessage());
      Object status = onContext(() -> client.execute("query-status")).await();
      assertEquals("paused", ((JsonObject) status).getString("status"));
      qemu.awaitPlayed();
    }
  }

  @Test
  void refusedCapabilitiesFailTheConnectWithQemusError() throws Exception {
    try (ScriptedQmpPeer qemu = peer("""
        greet
        -> qmp_capabilities
        <- {"error": {"class": "GenericError", "desc": "Capabilities negotiation is already complete"}, "id": $id}
        """)) {
      Throwable failure = failureOf(connect());
      assertEquals("QEMU refused qmp_capabilities: GenericError: Capabilities negotiation is already complete",
          failure.getMessage());
      qemu.awaitPlayed();
    }
  }

  @Test
  void eventsBetweenRepliesReachTheHandlerInOrderAndEachReplyItsOwnCommand() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> stop
        -> cont
        <- {"event": "STOP", "data": {}, "timestamp": {"seconds": 1700000000, "microseconds": 1}}
        <- {"return": {}, "id": $id:cont}
        <- {"event": "RESUME", "data": {}, "timestamp": {"seconds": 1700000000, "microseconds": 2}}
        <- {"timestamp": {"seconds": 1, "microseconds": 3}, "event": "BLOCK_IO_ERROR", "data": {"device": "disk0"}}
        <- {"id": $id:stop, "return": {}}
        """)) {
      QmpClient client = connect().await();
      List<String> seen = new ArrayList<>();
      Future<Object> stop = onContext(() -> {
        client.eventHandler(event -> seen.add("event " + event.name() + " " + event.data().encode()));
        Future<Object> stopped = client.execute("stop").onSuccess(v -> seen.add("stop returned"));
        client.execute("cont").onSuccess(v -> seen.add("cont returned"));
        return stopped;
      });
      stop.await();
      assertEquals(List.of("event STOP {}", "cont returned", "event RESUME {}",
          "event BLOCK_IO_ERROR {\"device\":\"disk0\"}", "stop returned"), onContext(() -> Future.succeededFuture(
              List.copyOf(seen))).await());
      qemu.awaitPlayed();
    }
  }

  @Test
  void theEndOfTheConnectionMidReplyFailsThePendingCommandAndLaterOnesAtOnce() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> query-status
        <~ {"return": {"status": "runn
        close
        """)) {
      QmpClient client = connect().await();
      Throwable cut = failureOf(onContext(() -> client.execute("query-status")));
      assertEquals("QMP connection closed", cut.getMessage());
      client.closeFuture().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("QMP connection is closed", failureOf(onContext(() -> client.execute("cont"))).getMessage());
      qemu.awaitPlayed();
    }
  }

  @Test
  void aQemuThatGreetsAndClosesFailsTheConnectSayingHowFarItGot() throws Exception {
    try (ScriptedQmpPeer qemu = peer("""
        greet
        -> qmp_capabilities
        close
        """)) {
      Throwable failure = failureOf(connect());
      assertEquals("QEMU greeted on QMP socket " + dir.resolve("qmp.sock")
          + " but did not answer qmp_capabilities: QEMU closed the connection", failure.getMessage());
      qemu.awaitPlayed();
    }
  }

  /** A failed handshake's message reaches the CreateVm reply: a long line of garbage is quoted short. */
  @Test
  void garbageInTheHandshakeFailsTheConnectQuotingItShort() throws Exception {
    String garbage = "not json ".repeat(20_000).strip();
    try (ScriptedQmpPeer qemu = peer("greet\n-> qmp_capabilities\n<- " + garbage + "\n")) {
      String message = failureOf(connect()).getMessage();
      assertTrue(message.startsWith("not QMP: \"not json not json")
          && message.endsWith("(" + garbage.length() + " characters)") && message.length() < 200,
          () -> message.substring(0, Math.min(message.length(), 300)));
      qemu.awaitPlayed();
    }
  }

  @Test
  void linesThatAreNotQmpAndRepliesToNoPendingCommandAreSkipped() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> query-status
        <- this is not JSON
        <- [1, 2]
        <- {"neither": "a reply nor an event"}
        <- {"return": {"status": "shutdown"}, "id": "cvm-not-ours"}
        <- {"return": {"status": "running"}, "id": $id}
        """)) {
      QmpClient client = connect().await();
      Object status = onContext(() -> client.execute("query-status")).await();
      assertEquals("running", ((JsonObject) status).getString("status"));
      qemu.awaitPlayed();
    }
  }

  /** A line without end is not buffered until memory runs out: past the bound, the connection ends. */
  @Test
  void aLineOverTheBoundEndsTheConnectionAsAProtocolError() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> query-status
        <* 11000000
        """)) {
      QmpClient client = connect().await();
      Throwable tooLong = failureOf(onContext(() -> client.execute("query-status")));
      assertEquals("QEMU sent a QMP line over " + QmpClient.MAX_LINE_BYTES + " bytes on QMP socket "
          + dir.resolve("qmp.sock") + "; connection closed", tooLong.getMessage());
      client.closeFuture().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

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

  // ---- KvmStats over query-stats ----

  @Test
  void kvmStatsAreTheVmsAndTheVcpusSummedOverVcpusNumbersOnly() throws Exception {
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> query-stats
        <- {"return": [{"provider": "kvm", "stats": [{"name": "max_mmu_page_hash_collisions", "value": 0}, {"name": "pages_4k", "value": 1024}, {"name": "nx_lpage_splits", "value": 3}]}], "id": $id}
        -> query-stats
        <- {"return": [{"provider": "kvm", "qom-path": "/machine/unattached/device[0]", "stats": [{"name": "exits", "value": 100}, {"name": "halt_exits", "value": 7}, {"name": "halt_poll_fail_hist", "value": [1, 2]}, {"name": "guest_mode", "value": false}]}, {"provider": "kvm", "qom-path": "/machine/unattached/device[1]", "stats": [{"name": "exits", "value": 50}, {"name": "halt_exits", "value": 3}]}], "id": $id}
        """)) {
      QmpClient client = connect().await();
      assertEquals(Map.of("vm.max_mmu_page_hash_collisions", 0.0, "vm.pages_4k", 1024.0, "vm.nx_lpage_splits", 3.0,
          "vcpu.exits", 150.0, "vcpu.halt_exits", 10.0), onContext(() -> KvmStats.query(client)).await());
      qemu.awaitPlayed();
    }
  }

  @Test
  void underTcgQemuHasNoStatsProviderAndThereAreNoKvmStats() throws Exception {
    // What QEMU 7.2 answers under -accel tcg, for both targets.
    try (ScriptedQmpPeer qemu = peer(HANDSHAKE + """
        -> query-stats
        <- {"return": [], "id": $id}
        -> query-stats
        <- {"return": [], "id": $id}
        """)) {
      QmpClient client = connect().await();
      assertEquals(Map.of(), onContext(() -> KvmStats.query(client)).await());
      qemu.awaitPlayed();
    }
  }
}
