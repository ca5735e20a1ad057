package io.cvmmanager.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged manager (target/cvm-manager.jar) as a separate process, started through bash so that a profile
 * such as conf/dev.env can be sourced first, exactly as the README says. stdout and stderr go to a file in the
 * test's temp dir.
 */
public final class ManagerProcess implements AutoCloseable {
  public static final Path JAR = Path.of("target/cvm-manager.jar").toAbsolutePath();

  private final Process process;
  private final Path output;

  private ManagerProcess(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  /**
   * @param profile a file to source before start (with {@code set -a}), or null
   * @param overrides variables set after the profile, so they win over it
   */
  public static ManagerProcess start(Path profile, Map<String, String> overrides, Path outputDir) throws IOException {
    StringBuilder script = new StringBuilder("set -a\n");
    if (profile != null) {
      script.append(". '").append(profile.toAbsolutePath()).append("'\n");
    }
    overrides.forEach((k, v) -> script.append(k).append("='").append(v.replace("'", "'\\''")).append("'\n"));
    script.append("exec \"$CVM_TEST_JAVA\" $CVM_TEST_JAVA_OPTS -jar '").append(JAR).append("'\n");
    Path output = outputDir.resolve("manager.out");
    ProcessBuilder builder = new ProcessBuilder(List.of("bash", "-c", script.toString()))
        .redirectErrorStream(true).redirectOutput(output.toFile());
    builder.environment().put("CVM_TEST_JAVA", ProcessHandle.current().info().command().orElse("java"));
    builder.environment().put("CVM_TEST_JAVA_OPTS", String.join(" ", jvmOptions()));
    return new ManagerProcess(builder.start(), output);
  }

  /**
   * The JVM options the README gives for the running JDK: from JDK 24 on, the JVM itself warns on stderr, outside
   * any log format, when a library (OpenTelemetry's shaded JCTools) uses sun.misc.Unsafe, unless allowed.
   */
  public static List<String> jvmOptions() {
    int feature = Runtime.version().feature();
    List<String> options = new java.util.ArrayList<>();
    if (feature >= 22) {
      options.add("--enable-native-access=ALL-UNNAMED");
    }
    if (feature >= 24) {
      options.add("--sun-misc-unsafe-memory-access=allow");
    }
    return options;
  }

  /** Waits for the process to end by itself; fails if it is still running after the timeout. */
  public int awaitExit(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new AssertionError("manager still running after " + seconds + " s; output:\n" + output());
    }
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM, as systemd stops it. */
  public void terminate() {
    process.destroy();
  }

  /** SIGKILL, as a crash or the OOM killer ends it; returns once it is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  public long pid() {
    return process.pid();
  }

  public Path outputFile() {
    return output;
  }

  public String output() {
    try {
      return Files.readString(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no output: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
