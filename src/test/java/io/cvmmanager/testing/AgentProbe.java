package io.cvmmanager.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads the dev guest's agent line through the forwarded host port. QEMU's hostfwd accepts a connection before the
 * guest listens and then closes it without data: that means "not yet", not an error.
 */
public final class AgentProbe {
  private AgentProbe() {}

  /** The agent's line, or empty if the guest does not answer yet. */
  public static Optional<String> readLine(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      socket.setSoTimeout(2000);
      InputStream in = socket.getInputStream();
      StringBuilder line = new StringBuilder();
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        line.append((char) b);
      }
      return line.length() == 0 ? Optional.empty() : Optional.of(line.toString());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Sends one line to the agent (the dev agent powers the guest off on "poweroff"). */
  public static void send(int port, String text) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      socket.setSoTimeout(2000);
      InputStream in = socket.getInputStream();
      while (in.read() != '\n') {
        // skip the greeting line
      }
      socket.getOutputStream().write((text + "\n").getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
    }
  }
}
