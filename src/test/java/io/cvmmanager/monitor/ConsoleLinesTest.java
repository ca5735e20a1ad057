package io.cvmmanager.monitor;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.WatchVm;
import io.cvmmanager.config.ManagerConfig;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console file as lines on {@code cvm.logs.<id>}: the monitor alone, on a file the test writes (no QEMU). */
class ConsoleLinesTest {
  /** What the monitor reads of the file at a time. */
  private static final int READ_CHUNK = 64 * 1024;

  @TempDir
  Path dir;
  private Vertx vertx;
  private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void startMonitor() {
    vertx = Vertx.vertx();
    vertx.deployVerticle(new MonitorVerticle(new ManagerConfig.Observation(Duration.ZERO, 0, Duration.ZERO))).await();
    Bus.of(vertx).consume(Addresses.VM_LOGS.at("vm-1"), line -> lines.add(line.line())).completion().await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private void watch(byte[] console) throws Exception {
    Path log = dir.resolve("console.log");
    Files.write(log, console);
    Bus.of(vertx).send(Addresses.MONITOR_WATCH, new WatchVm("vm-1", 1, log.toString(), false, 0, ""));
  }

  @Test
  void aCharacterCutByTheEndOfAReadComesOutWhole() throws Exception {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    console.writeBytes("boot\n".getBytes(StandardCharsets.US_ASCII));
    String before = "a".repeat(READ_CHUNK - 1 - console.size());
    console.writeBytes(before.getBytes(StandardCharsets.US_ASCII));
    // é's two bytes are the last of the first read and the first of the second.
    console.writeBytes("é\nlogin:\n".getBytes(StandardCharsets.UTF_8));
    watch(console.toByteArray());

    await().atMost(Duration.ofSeconds(10)).until(() -> lines.size() >= 3);
    assertEquals(List.of("boot", "a × " + before.length() + " + é", "login:"), shortened(lines));
  }

  @Test
  void aConsoleLineOverTheBoundIsPublishedInPieces() throws Exception {
    String longLine = "x".repeat(2 * MonitorVerticle.MAX_LINE_BYTES + 10);
    watch((longLine + "\nnext\n").getBytes(StandardCharsets.US_ASCII));

    await().atMost(Duration.ofSeconds(10)).until(() -> lines.size() >= 4);
    String piece = "x × " + MonitorVerticle.MAX_LINE_BYTES;
    assertEquals(List.of(piece, piece, "x × 10", "next"), shortened(lines));
  }

  /** A run of one character written as {@code c × n} (plus what follows it), so that a failure prints short. */
  private static List<String> shortened(List<String> lines) {
    synchronized (lines) {
      return lines.stream().map(line -> line.matches("(.)\\1{7,}.*") ? run(line) : line).toList();
    }
  }

  private static String run(String line) {
    int end = 1;
    while (end < line.length() && line.charAt(end) == line.charAt(0)) {
      end++;
    }
    return line.charAt(0) + " × " + end + (end < line.length() ? " + " + line.substring(end) : "");
  }
}
