package io.cvmmanager.qmp;

import io.cvmmanager.error.ClientText;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.parsetools.RecordParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * An asynchronous QMP client over QEMU's unix socket: greeting, capabilities negotiation, commands with ids,
 * events. One connection per VM. The connection's end is how a VM's death is seen first (EOF is immediate);
 * {@link #closeHandler} reports it. All callbacks run on the context that connected.
 */
public final class QmpClient {
  /** QEMU makes its socket within milliseconds of exec; a failed connect to a unix path costs next to nothing. */
  private static final long RETRY_MS = 2;
  /**
   * The longest line taken from QEMU, libvirt's bound on a monitor reply (QEMU_MONITOR_MAX_RESPONSE, 10 MiB): a line
   * without end would otherwise be buffered until memory runs out.
   */
  static final int MAX_LINE_BYTES = 10 * 1024 * 1024;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(QmpClient.class);

  private final NetSocket socket;
  private final String path;
  private final Map<String, Promise<Object>> pending = new HashMap<>();
  /** QEMU's greeting came: the handshake waits on qmp_capabilities from then on. */
  private boolean greeted;
  private final Promise<Void> ready = Promise.promise();
  private final Promise<Void> closed = Promise.promise();
  private Handler<QmpMessage.Event> eventHandler = event -> { };
  private long nextId;

  private QmpClient(NetSocket socket, String path) {
    this.socket = socket;
    this.path = path;
    RecordParser lines = RecordParser.newDelimited("\n", line -> onLine(line.toString().trim()))
        .maxRecordSize(MAX_LINE_BYTES);
    lines.exceptionHandler(e -> onLineTooLong());
    socket.handler(lines);
    socket.closeHandler(v -> onClosed());
    // A reset as QEMU exits is how a VM's end looks, not an error.
    socket.exceptionHandler(e -> LOG.debug("QMP socket: {}", e.toString()));
  }

  /**
   * Connects to {@code socketPath}, retrying while QEMU has not created or not yet listens on it, and completes
   * once {@code qmp_capabilities} has been accepted: the VM is then under our control. A failure is a
   * {@link QmpException} that says how far it got: no connection, no greeting, or no answer to qmp_capabilities
   * (class {@code Timeout} when the time ran out; {@code Disconnected} when QEMU closed the connection).
   */
  public static Future<QmpClient> connect(Vertx vertx, NetClient netClient, Path socketPath, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    // The handshake is bounded too: QEMU serves one client at a time, and a second one is accepted by the kernel
    // but never greeted while another holds QEMU's attention.
    return attempt(vertx, netClient, SocketAddress.domainSocketAddress(socketPath.toString()), deadline)
        .compose(client -> client.ready.future()
            .timeout(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS)
            .map(client)
            // The timeout fires on Netty's global thread (ready has no context); the close's future brings what
            // follows back to the connection's event loop, where the handshake's state is read.
            .recover(e -> client.close().transform(ignored -> Future.failedFuture(client.handshakeFailure(e)))));
  }

  /** A NetClient fit for QMP sockets; share one among all VMs. */
  public static NetClient netClient(Vertx vertx) {
    return vertx.createNetClient(new NetClientOptions().setConnectTimeout(1000));
  }

  private static Future<QmpClient> attempt(Vertx vertx, NetClient netClient, SocketAddress address, long deadline) {
    Promise<QmpClient> connected = Promise.promise();
    attempt(vertx, netClient, address, deadline, connected);
    return connected.future();
  }

  /**
   * Every retry completes the one promise: a future per retry, each completing the previous one, would be a chain
   * thousands long (a socket that never comes, retried every 2 ms for seconds) whose completion overflows the stack.
   */
  private static void attempt(Vertx vertx, NetClient netClient, SocketAddress address, long deadline,
      Promise<QmpClient> connected) {
    netClient.connect(address)
        .onSuccess(socket -> connected.complete(new QmpClient(socket, address.path())))
        .onFailure(error -> {
          if (System.nanoTime() > deadline) {
            connected.fail(new QmpException("Timeout", "QMP socket " + address.path()
                + " exists but accepted no connection (" + error.getMessage() + ")"));
          } else {
            vertx.setTimer(RETRY_MS, t -> attempt(vertx, netClient, address, deadline, connected));
          }
        });
  }

  /**
   * Runs a command; the future holds its {@code return} value, or fails with QEMU's error. It is bound to the
   * connection's context (it goes through the write's future), so that a caller's {@code Future.timeout} on it fires
   * there: on a future of no context it would fire, and run what follows, on Netty's global thread.
   */
  public Future<Object> execute(String command, JsonObject arguments) {
    if (closed.future().isComplete()) {
      return Future.failedFuture(new QmpException("Disconnected", "QMP connection is closed"));
    }
    String id = "cvm-" + nextId++;
    Promise<Object> reply = Promise.promise();
    pending.put(id, reply);
    JsonObject message = new JsonObject().put("execute", command).put("id", id);
    if (arguments != null && !arguments.isEmpty()) {
      message.put("arguments", arguments);
    }
    return socket.write(message.encode() + "\n").transform(written -> reply.future());
  }

  public Future<Object> execute(String command) {
    return execute(command, null);
  }

  /** Called for every QMP event, in order. */
  public QmpClient eventHandler(Handler<QmpMessage.Event> handler) {
    this.eventHandler = handler;
    return this;
  }

  /** Completes when the connection ends, by us or by QEMU (QEMU exited, was killed or crashed). */
  public Future<Void> closeFuture() {
    return closed.future();
  }

  public Future<Void> close() {
    return socket.close().transform(ar -> closed.future());
  }

  private void onLine(String line) {
    if (line.isEmpty()) {
      return;
    }
    QmpMessage message = QmpMessage.parse(line);
    if (message instanceof QmpMessage.Greeting) {
      greeted = true;
      execute("qmp_capabilities").onSuccess(v -> ready.tryComplete()).onFailure(e -> ready.tryFail(
          e instanceof QmpException q && !"Disconnected".equals(q.errorClass())
              ? new QmpException(q.errorClass(), "QEMU refused qmp_capabilities: " + q.getMessage()) : e));
    } else if (message instanceof QmpMessage.Return r) {
      complete(r.id(), r.value(), null);
    } else if (message instanceof QmpMessage.Error e) {
      complete(e.id(), null, new QmpException(e.errorClass(), e.errorClass() + ": " + e.description()));
    } else if (message instanceof QmpMessage.Event event) {
      eventHandler.handle(event);
    } else if (message instanceof QmpMessage.Unknown unknown) {
      // The handshake's failure reaches the CreateVm reply: a line of garbage is quoted short.
      ready.tryFail(new QmpException("Protocol", "not QMP: " + ClientText.quote(unknown.line())));
    }
  }

  private void complete(String id, Object value, QmpException error) {
    Promise<Object> reply = id == null ? null : pending.remove(id);
    if (reply == null) {
      return;
    }
    if (error == null) {
      reply.complete(value);
    } else {
      reply.fail(error);
    }
  }

  /** Why the handshake failed, as far as it got: {@code e} is its timeout or what ended it. */
  private QmpException handshakeFailure(Throwable e) {
    if (e instanceof QmpException qmp && !"Disconnected".equals(qmp.errorClass())) {
      return qmp;
    }
    String where = greeted ? "QEMU greeted on QMP socket " + path + " but did not answer qmp_capabilities"
        : "QMP socket " + path + " accepted the connection but QEMU sent no greeting";
    return e instanceof QmpException ? new QmpException("Disconnected", where + ": QEMU closed the connection")
        : new QmpException("Timeout", where);
  }

  /** A line past {@link #MAX_LINE_BYTES}: what waits on QEMU fails saying so, and the connection ends. */
  private void onLineTooLong() {
    failWaiting(new QmpException("Protocol", "QEMU sent a QMP line over " + MAX_LINE_BYTES + " bytes on QMP socket "
        + path + "; connection closed"));
    socket.close();
  }

  private void onClosed() {
    failWaiting(new QmpException("Disconnected", "QMP connection closed"));
    closed.tryComplete();
  }

  /** Fails the handshake, if still under way, and every command waiting for its reply. */
  private void failWaiting(QmpException failure) {
    pending.values().forEach(p -> p.tryFail(failure));
    pending.clear();
    ready.tryFail(failure);
  }
}
