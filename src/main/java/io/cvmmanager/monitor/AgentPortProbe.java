package io.cvmmanager.monitor;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.TimeUnit;

/**
 * Whether the guest answers on a VM's forwarded agent port. Only bytes from the guest count: QEMU's user networking
 * accepts the host-side connection whatever the guest does, then keeps it open while the guest cannot answer
 * (paused, still booting) or closes it when nothing listens there. So the probe sends a TLS ClientHello, which a
 * TLS agent answers, while a plaintext gRPC agent speaks first (its HTTP/2 SETTINGS) and the dev guest's stand-in
 * writes its line; a connection closed, reset or silent for {@link #TIMEOUT_MS} means no answer.
 */
final class AgentPortProbe {
  static final int TIMEOUT_MS = 1500;

  private final NetClient client;
  /** Made once: a probe never completes the handshake, so the same hello serves every connection. */
  private final Buffer clientHello = TlsClientHello.create();

  AgentPortProbe(Vertx vertx) {
    this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(TIMEOUT_MS));
  }

  Future<Boolean> answers(int port) {
    return client.connect(port, "127.0.0.1")
        .compose(socket -> firstBytes(socket).eventually(socket::close))
        .otherwise(false);
  }

  Future<Void> close() {
    return client.close();
  }

  private Future<Boolean> firstBytes(NetSocket socket) {
    Promise<Boolean> answered = Promise.promise();
    socket.handler(data -> answered.tryComplete(true));
    socket.closeHandler(v -> answered.tryComplete(false));
    socket.exceptionHandler(e -> answered.tryComplete(false));
    // Through the write's future, bound to the socket's context: the timeout then fires on its event loop.
    return socket.write(clientHello).compose(written -> answered.future())
        .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .otherwise(false);
  }
}
