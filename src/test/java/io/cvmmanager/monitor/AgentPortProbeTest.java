package io.cvmmanager.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.testing.TestCerts;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The agent-port probe against local servers standing in for what QEMU's user networking can put behind a port:
 * nothing in the guest yet (accepted, then closed), a paused or booting guest (accepted, silent), the dev guest's
 * stand-in (a line at once), a TLS agent (answers only once it gets a ClientHello).
 */
class AgentPortProbeTest {
  private final Vertx vertx = Vertx.vertx();
  private final AgentPortProbe probe = new AgentPortProbe(vertx);

  @AfterEach
  void close() {
    probe.close().await();
    vertx.close().await();
  }

  private int server(NetServerOptions options, Handler<NetSocket> onConnect) {
    return vertx.createNetServer(options).connectHandler(onConnect).listen(0, "127.0.0.1").await().actualPort();
  }

  private int server(Handler<NetSocket> onConnect) {
    return server(new NetServerOptions(), onConnect);
  }

  @Test
  void aConnectionThatStaysOpenAndSilentIsNoAnswer() {
    int port = server(socket -> { });
    long started = System.nanoTime();
    assertFalse(probe.answers(port).await());
    assertTrue(System.nanoTime() - started >= AgentPortProbe.TIMEOUT_MS * 1_000_000L, "waited the timeout");
  }

  @Test
  void aConnectionClosedWithoutDataIsNoAnswer() {
    assertFalse(probe.answers(server(NetSocket::close)).await());
  }

  @Test
  void aRefusedConnectionIsNoAnswer() throws Exception {
    int port;
    try (ServerSocket unused = new ServerSocket(0)) {
      port = unused.getLocalPort();
    }
    assertFalse(probe.answers(port).await());
  }

  @Test
  void aLineAtOnceIsAnAnswer() {
    assertTrue(probe.answers(server(socket -> socket.write("cvm-agent ready id=x certs=\n"))).await());
  }

  /** As a plaintext gRPC agent does: its SETTINGS at once, then it drops a client whose first bytes are no preface. */
  @Test
  void bytesThenCloseIsAnAnswer() {
    assertTrue(probe.answers(server(socket -> {
      socket.write("settings");
      socket.handler(data -> socket.close());
    })).await());
  }

  @Test
  void aServerThatSpeaksOnlyWhenSpokenToIsAnswered() {
    assertTrue(probe.answers(server(socket -> socket.handler(data -> socket.write("?")))).await());
  }

  @Test
  void aTlsServerAnswersTheProbe(@TempDir Path dir) throws Exception {
    assertTrue(probe.answers(tlsServer(dir, "TLSv1.3")).await());
  }

  /** The JDK's TLS (through Vert.x) takes the hello as valid for either version: a ServerHello, not an alert. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void theClientHelloGetsAServerHello(String version, @TempDir Path dir) throws Exception {
    int port = tlsServer(dir, version);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      socket.setSoTimeout(5000);
      socket.getOutputStream().write(TlsClientHello.create().getBytes());
      InputStream in = socket.getInputStream();
      byte[] header = in.readNBytes(6);
      assertEquals(0x16, header[0], "a handshake record, not an alert (0x15)");
      assertEquals(0x02, header[5], "handshake type ServerHello");
    }
  }

  private int tlsServer(Path dir, String version) throws Exception {
    TestCerts certs = TestCerts.create(dir);
    return server(new NetServerOptions().setSsl(true).setEnabledSecureTransportProtocols(Set.of(version))
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certs.serverCert().toString())
            .setKeyPath(certs.serverKey().toString())), socket -> { });
  }
}
