package io.cvmmanager.testing;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's side of one QMP connection, played from a script (as libvirt's qemumonitortestutils and govmm's qmp_test.go
 * do): a unix-socket server that accepts one client and then takes the script's steps in order, one per line.
 *
 * <pre>
 *   greet              sends QEMU's greeting
 *   -&gt; NAME          reads the client's next command, which must be {"execute": "NAME", ...}
 *   &lt;- TEXT          sends TEXT and a newline; in TEXT, $id is the id (as JSON) of the last command read and
 *                      $id:NAME that of the last NAME read
 *   &lt;~ TEXT          sends TEXT without a newline (a reply cut off, when close follows)
 *   &lt;* N            sends N bytes of 'x' without a newline (a line without end)
 *   close              closes the connection (QEMU exited)
 *   # ...              a comment; blank lines are skipped
 * </pre>
 *
 * {@link #played} completes when the last step ran, or fails with the step that went wrong; the connection then
 * stays open (unless the script closed it) until {@link #close}.
 */
public final class ScriptedQmpPeer implements AutoCloseable {
  /** QEMU 8.2's greeting, as it sends it. */
  public static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 8},"
      + " \"package\": \"\"}, \"capabilities\": [\"oob\"]}}";
  private static final long ACCEPT_TIMEOUT_SECONDS = 30;
  private static final Pattern ID = Pattern.compile("\\$id(?::([\\w-]+))?");

  private final ServerSocketChannel server;
  private final List<String> steps;
  private final CompletableFuture<Void> played = new CompletableFuture<>();
  private volatile SocketChannel connection;

  private ScriptedQmpPeer(ServerSocketChannel server, String script) {
    this.server = server;
    this.steps = script.lines().map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#"))
        .toList();
  }

  /** Listens on {@code socket} and plays {@code script} to the first client, on a thread of its own. */
  public static ScriptedQmpPeer listen(Path socket, String script) {
    try {
      ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(socket));
      ScriptedQmpPeer peer = new ScriptedQmpPeer(server, script);
      Thread player = new Thread(peer::play, "scripted-qmp-peer");
      player.setDaemon(true);
      player.start();
      return peer;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Completes once every step ran; fails with the first that could not. */
  public CompletableFuture<Void> played() {
    return played;
  }

  /** Waits until every step ran, and throws what went wrong in one. */
  public void awaitPlayed() throws Exception {
    played.get(ACCEPT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private void play() {
    try (SocketChannel accepted = server.accept()) {
      connection = accepted;
      BufferedReader commands = new BufferedReader(
          new InputStreamReader(Channels.newInputStream(accepted), StandardCharsets.UTF_8));
      OutputStream out = Channels.newOutputStream(accepted);
      Map<String, Object> ids = new HashMap<>();
      for (String step : steps) {
        take(step, commands, out, ids);
      }
      played.complete(null);
      if (accepted.isOpen()) {
        // Held open, as a QEMU that goes on running, until the test closes the peer.
        commands.read();
      }
    } catch (IOException | RuntimeException | AssertionError e) {
      played.completeExceptionally(e);
    }
  }

  /** Takes one step; {@code ids} holds the id of the last command read ("") and of the last of each name. */
  private void take(String step, BufferedReader commands, OutputStream out, Map<String, Object> ids)
      throws IOException {
    if (step.equals("greet")) {
      send(out, GREETING + "\n");
    } else if (step.equals("close")) {
      connection.close();
    } else if (step.startsWith("-> ")) {
      String command = step.substring(3);
      Object id = expect(command, commands.readLine());
      ids.put(command, id);
      ids.put("", id);
    } else if (step.startsWith("<- ")) {
      send(out, withIds(step.substring(3), ids) + "\n");
    } else if (step.startsWith("<~ ")) {
      send(out, withIds(step.substring(3), ids));
    } else if (step.startsWith("<* ")) {
      send(out, "x".repeat(Integer.parseInt(step.substring(3))));
    } else {
      throw new IllegalArgumentException("not a step of a QMP script: " + step);
    }
  }

  private static Object expect(String command, String line) {
    if (line == null) {
      throw new AssertionError("expected " + command + ", but the client closed the connection");
    }
    JsonObject message = new JsonObject(line);
    if (!command.equals(message.getString("execute"))) {
      throw new AssertionError("expected " + command + ", got " + line);
    }
    return message.getValue("id");
  }

  private static String withIds(String text, Map<String, Object> ids) {
    Matcher reference = ID.matcher(text);
    StringBuilder replaced = new StringBuilder();
    while (reference.find()) {
      String name = reference.group(1) == null ? "" : reference.group(1);
      if (!ids.containsKey(name)) {
        throw new IllegalArgumentException(reference.group() + " before any such command was read");
      }
      reference.appendReplacement(replaced, Matcher.quoteReplacement(Json.encode(ids.get(name))));
    }
    return reference.appendTail(replaced).toString();
  }

  private static void send(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** Closes the connection and the listening socket. */
  @Override
  public void close() throws IOException {
    SocketChannel open = connection;
    if (open != null) {
      open.close();
    }
    server.close();
  }
}
