package io.cvmmanager.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.testing.ManagerProcess;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.TestPorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AppCDS archives of deploy/cds.sh, as installed (the scripts beside a copy of the jar): cvmctl makes its archive
 * on its first call and maps it on the next, with the same output and nothing more on stdout; a new jar makes a new
 * archive and drops the old one; the manager, started by cvm-manager-start, writes its own archive once it serves,
 * and the next start maps it.
 */
class StartupArchiveIT {
  private static final Path DEPLOY = Path.of("deploy").toAbsolutePath();
  private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
  /** The test's own JDK, for the scripts (cds.sh runs $JAVA_HOME/bin/java). */
  private static final Path JAVA_HOME = Path.of(JAVA).getParent().getParent();

  private record Run(int exit, String out, String err) {}

  @Test
  void cvmctlMakesItsArchiveOnceAndMapsItAfter(@TempDir Path tmp) throws Exception {
    Path opt = install(tmp);
    Run first = cvmctl(opt, "list", "--json");
    Path archive = onlyArchive(opt, "cvmctl");
    Run second = cvmctl(opt, "list", "--json");
    assertEquals(List.of(1, "", "error: UNAVAILABLE"), List.of(first.exit(), first.out(), first.err().substring(0, 18)),
        first.err());
    assertEquals(first, second, "with the archive, the same exit, stdout and stderr");
    FileTime made = Files.getLastModifiedTime(archive);
    cvmctl(opt, "--version");
    assertEquals(made, Files.getLastModifiedTime(archive), "a valid archive is mapped, not made again");

    // A new jar (another size or modification time) is another key: a new archive, and the old one is gone.
    Files.setLastModifiedTime(opt.resolve("cvm-manager.jar"), FileTime.fromMillis(made.toMillis() + 60_000));
    assertEquals(first, cvmctl(opt, "list", "--json"));
    Path renewed = onlyArchive(opt, "cvmctl");
    assertNotEquals(archive, renewed);
    assertNoTempFiles(opt);
  }

  @Test
  void theManagerWritesItsArchiveOnceServingAndTheNextStartMapsIt(@TempDir Path tmp) throws Exception {
    Path opt = install(tmp);
    PortRange ports = TestPorts.range(2);
    Path state = Files.createDirectories(tmp.resolve("state"));
    Path log = tmp.resolve("manager.log");
    Process first = startManager(opt, state, ports, log);
    try {
      await().atMost(Duration.ofSeconds(90)).until(() -> Files.readString(log).contains("start-up archive: "));
      assertTrue(Files.readString(log).contains("written"), Files.readString(log));
    } finally {
      stop(first);
    }
    Path archive = onlyArchive(opt, "cvm-manager");
    assertNoTempFiles(opt);

    Process second = startManager(opt, state, ports, log);
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("gRPC listening"));
      String commandLine = Files.readString(Path.of("/proc/" + second.pid() + "/cmdline")).replace('\0', ' ');
      assertTrue(commandLine.contains("-XX:SharedArchiveFile=" + archive), commandLine);
      assertFalse(Files.readString(log).contains("start-up archive: "), "no second dump: " + Files.readString(log));
    } finally {
      stop(second);
    }
  }

  /** The jar and the deploy scripts side by side, as install.sh lays them out in /opt/cvm-manager. */
  private static Path install(Path tmp) throws IOException {
    Path opt = Files.createDirectories(tmp.resolve("opt"));
    Files.copy(ManagerProcess.JAR, opt.resolve("cvm-manager.jar"));
    for (String script : List.of("cds.sh", "cvm-manager-start", "cvmctl")) {
      Files.copy(DEPLOY.resolve(script), opt.resolve(script));
    }
    return opt;
  }

  private static Run cvmctl(Path opt, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", opt.resolve("cvmctl").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(Map.of("CVM_MANAGER_JAR", opt.resolve("cvm-manager.jar").toString(),
        "MANAGER_GRPC_URL", "127.0.0.1:1", "JAVA_HOME", JAVA_HOME.toString(), "HOME", opt.toString()));
    Process process = builder.start();
    process.getOutputStream().close();
    byte[] out = process.getInputStream().readAllBytes();
    byte[] err = process.getErrorStream().readAllBytes();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "cvmctl still running");
    return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  private static Process startManager(Path opt, Path state, PortRange ports, Path log) throws IOException {
    String script = "set -a\n. '" + Path.of("conf/dev.env").toAbsolutePath() + "'\n"
        + "MANAGER_STATE_DIR='" + state + "'\nMANAGER_GRPC_PORT=" + ports.first() + "\nMANAGER_HTTP_PORT="
        + (ports.first() + 1) + "\nexec bash '" + opt.resolve("cvm-manager-start") + "'\n";
    ProcessBuilder builder = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = new HashMap<>(Map.of("JAVA_HOME", JAVA_HOME.toString(),
        "JAVA_OPTS", String.join(" ", ManagerProcess.jvmOptions())));
    builder.environment().putAll(env);
    return builder.start();
  }

  private static void stop(Process manager) throws InterruptedException {
    manager.destroy();
    if (!manager.waitFor(60, TimeUnit.SECONDS)) {
      manager.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static Path onlyArchive(Path dir, String name) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> archives = files.filter(f -> f.getFileName().toString().matches(name + "-[0-9]+\\.jsa")).toList();
      assertEquals(1, archives.size(), "archives named " + name + ": " + archives);
      assertTrue(Files.size(archives.get(0)) > 0);
      return archives.get(0);
    }
  }

  private static void assertNoTempFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".tmp")).toList());
    }
  }
}
