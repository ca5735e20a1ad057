package io.cvmmanager.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/cvmctl top} (the packaged jar) in a real terminal: a detached tmux session of 120×30 whose pane is
 * read as a person would see it, and keys sent to it. The shell around cvmctl writes its exit code and the terminal's
 * settings before and after, so that quitting (q, Ctrl-C) is seen to exit 0 and to restore the terminal. Without a
 * terminal it prints one table.
 */
class CvmctlTopIT {
  private static final Duration WITHIN = Duration.ofSeconds(60);

  @TempDir
  Path dir;

  private Path socket() {
    return dir.resolve("tmux.sock");
  }

  private String tmux(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("tmux", "-S", socket().toString()));
    command.addAll(List.of(args));
    Process tmux = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(tmux.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(tmux.waitFor(10, TimeUnit.SECONDS), "tmux " + args[0] + " hangs");
    assertEquals(0, tmux.exitValue(), "tmux " + String.join(" ", args) + ": " + out);
    return out;
  }

  @AfterEach
  void killTmux() throws Exception {
    if (Files.exists(socket())) {
      new ProcessBuilder("tmux", "-S", socket().toString(), "kill-server").start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** cvmctl top in a new session {@code name}, its exit code in {@code name.exit} once it ends. */
  private void startTop(String name, int grpcPort) throws Exception {
    Path out = dir.resolve(name);
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "30",
        "stty -g > " + out + ".before; MANAGER_GRPC_URL=localhost:" + grpcPort + " deploy/cvmctl top 2> " + out
            + ".err; echo $? > "
            + out + ".exit.tmp; stty -g > " + out + ".after; mv " + out + ".exit.tmp " + out + ".exit");
  }

  private String pane(String name) throws Exception {
    return tmux("capture-pane", "-p", "-t", name);
  }

  private void assertQuitCleanly(String name) throws Exception {
    Path exit = dir.resolve(name + ".exit");
    await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(exit));
    assertEquals("0", Files.readString(exit).strip(), "cvmctl top's exit code; its stderr: "
        + Files.readString(dir.resolve(name + ".err")));
    assertEquals(Files.readString(dir.resolve(name + ".before")), Files.readString(dir.resolve(name + ".after")),
        "the terminal's settings are restored");
  }

  @Test
  void topRefreshesInATerminalAndQuitsOnQOrCtrlC(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2),
        Map.of("MANAGER_USAGE_INTERVAL", "1s"))) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      int grpcPort = manager.server().port();

      startTop("q", grpcPort);
      // A row with a CPU % needs two samples: the table has been refreshed since the first frame.
      Pattern row = Pattern.compile("(?m)^" + Pattern.quote(id) + "\\s+-\\s+RUNNING\\s+\\d+\\.\\d\\s+\\d+(\\.\\d)? MiB"
          + "\\s+\\d+:\\d\\d\\s+\\d+$");
      String frame = await().atMost(WITHIN).until(() -> pane("q"), text -> row.matcher(text).find());
      System.out.println("cvmctl top, as tmux shows it:\n" + frame.stripTrailing());
      assertTrue(frame.contains("ID") && frame.contains("CPU%") && frame.contains("UPTIME"), frame);
      tmux("send-keys", "-t", "q", "q");
      assertQuitCleanly("q");

      // Without a terminal (this JVM's stdout is a pipe): one table, CPU % unknown from a single sample.
      CvmctlRun once = CvmctlRun.of(Map.of("MANAGER_GRPC_URL", "localhost:" + grpcPort), "top");
      assertEquals(0, once.exit(), once.err());
      assertEquals(2, once.lines().size(), once.out());
      assertTrue(once.lines().get(0).startsWith("ID ") && once.lines().get(1).matches(Pattern.quote(id)
          + "\\s+-\\s+RUNNING\\s+-\\s+\\S+ MiB\\s+\\d+:\\d\\d\\s+\\d+"), once.out());

      // The same usage in list --json, the map of KVM stats as an object (empty under TCG).
      CvmctlRun json = CvmctlRun.of(Map.of("MANAGER_GRPC_URL", "localhost:" + grpcPort), "list", "--json");
      JsonObject listed = new JsonObject(json.out().strip());
      assertTrue(listed.getDouble("cpuSeconds") > 0 && listed.getLong("memoryRssBytes") > 0
          && listed.getString("sampledAt") != null, json.out());
      assertEquals(new JsonObject(), listed.getJsonObject("kvmStats"), json.out());

      startTop("ctrl-c", grpcPort);
      await().atMost(WITHIN).until(() -> pane("ctrl-c"), text -> text.contains(id));
      tmux("send-keys", "-t", "ctrl-c", "C-c");
      assertQuitCleanly("ctrl-c");
    }
  }
}
