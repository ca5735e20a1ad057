package io.cvmmanager.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.config.ClusterConfig;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ConfigVariable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The systemd deployment: deploy/manager.env, deploy/install.sh and deploy/cvm-manager.service. */
class DeployFilesTest {
  private static final Path DEPLOY = Path.of("deploy");
  private static final Path ENV_FILE = DEPLOY.resolve("manager.env");
  private static final Path UNIT = DEPLOY.resolve("cvm-manager.service");
  private static final Path INSTALL = DEPLOY.resolve("install.sh");
  /** Added with VM adoption; until ConfigVariable has it, manager.env documents it with this default. */
  private static final String STOP_VMS_ON_EXIT = "MANAGER_STOP_VMS_ON_EXIT";
  /** Not the manager's: the unit's ExecStart takes the JVM's options from it. */
  private static final String JAVA_OPTS = "JAVA_OPTS";
  private static final Pattern ASSIGNMENT = Pattern.compile("#([A-Z][A-Z0-9_]*)=(.*)");

  private static final String INSTALLED_JAR = "/opt/cvm-manager/cvm-manager.jar";
  private static final String INSTALLED_ENV = "/etc/cvm-manager/manager.env";
  /** Every path install.sh installs, with its mode. */
  private static final Map<String, String> INSTALLED = orderedMap(
      "opt/cvm-manager", "rwxr-xr-x",
      "opt/cvm-manager/cvm-manager.jar", "rw-r--r--",
      "opt/cvm-manager/cds.sh", "rw-r--r--",
      "opt/cvm-manager/cvm-manager-start", "rwxr-xr-x",
      "usr/local/bin/cvmctl", "rwxr-xr-x",
      "etc/systemd/system/cvm-manager.service", "rw-r--r--",
      "etc/cvm-manager", "rwxr-x---",
      "etc/cvm-manager/manager.env", "rw-r-----",
      "var/lib/cvm-manager", "rwx------");

  private record Run(int exit, String out) {}

  /** Every variable with the default the manager uses: the enum's, and the adoption variable's until it joins. */
  private static Map<String, String> expectedDefaults() {
    Map<String, String> expected = new LinkedHashMap<>();
    for (ConfigVariable v : ConfigVariable.values()) {
      expected.put(v.name(), v.defaultValue());
    }
    expected.putIfAbsent(STOP_VMS_ON_EXIT, "false");
    expected.put(JAVA_OPTS, "");
    return expected;
  }

  @Test
  void envFileListsEveryVariableOnceWithItsDefaultAndAnExplanation(@TempDir Path tmp) throws IOException {
    List<String> lines = Files.readAllLines(ENV_FILE);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = ASSIGNMENT.matcher(lines.get(i));
      if (m.matches()) {
        names.add(m.group(1));
        String above = i > 0 ? lines.get(i - 1) : "";
        assertTrue(above.startsWith("# ") && !ASSIGNMENT.matcher(above).matches(),
            m.group(1) + " has no explanation line above it: '" + above + "'");
      }
    }
    Map<String, String> expected = expectedDefaults();
    assertEquals(names.size(), names.stream().distinct().count(), "a variable is listed twice: " + names);
    assertEquals(List.of(), expected.keySet().stream().filter(n -> !names.contains(n)).toList(),
        "missing from manager.env");
    assertEquals(List.of(), names.stream().filter(n -> !expected.containsKey(n)).toList(),
        "in manager.env but unknown");
    Map<String, String> sourced = sourcedUncommented(tmp, lines, names);
    List<String> wrong = expected.entrySet().stream().filter(e -> !e.getValue().equals(sourced.get(e.getKey())))
        .map(e -> e.getKey() + ": default " + e.getValue() + ", manager.env " + sourced.get(e.getKey())).toList();
    assertEquals(List.of(), wrong, "defaults as bash (and systemd) read them");
  }

  /** The values every assignment line gives once uncommented, as bash sources them (quotes removed). */
  private static Map<String, String> sourcedUncommented(Path dir, List<String> lines, List<String> names)
      throws IOException {
    Path uncommented = dir.resolve("manager.env");
    Files.write(uncommented, lines.stream().map(l -> ASSIGNMENT.matcher(l).matches() ? l.substring(1) : l).toList());
    List<String> command = new ArrayList<>(List.of("env", "-i", "bash", "--norc", "--noprofile", "-c",
        "set -a; . \"$1\"; shift; for n; do printf '%s=%s\\n' \"$n\" \"${!n-<unset>}\"; done", "bash",
        uncommented.toString()));
    command.addAll(names);
    Run run = run(command, Map.of());
    assertEquals(0, run.exit(), run.out());
    Map<String, String> values = new LinkedHashMap<>();
    run.out().lines().forEach(l -> values.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
    return values;
  }

  @Test
  void secondInstallChangesNothingAndAnEditedEnvFileIsKept(@TempDir Path tmp) throws IOException {
    Path root = tmp.resolve("root");
    Path jar = jar(tmp.resolve("cvm-manager.jar"), "first");

    Run first = install(root, "--jar", jar.toString());
    assertEquals(0, first.exit(), first.out());
    for (Map.Entry<String, String> e : INSTALLED.entrySet()) {
      Path p = root.resolve(e.getKey());
      assertTrue(Files.exists(p), e.getKey() + " not installed:\n" + first.out());
      assertEquals(e.getValue(), PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), e.getKey());
    }
    assertEquals(-1, Files.mismatch(jar, root.resolve("opt/cvm-manager/cvm-manager.jar")));
    assertEquals(-1, Files.mismatch(UNIT, root.resolve("etc/systemd/system/cvm-manager.service")));
    assertEquals(-1, Files.mismatch(ENV_FILE, root.resolve("etc/cvm-manager/manager.env")));
    assertFalse(Files.exists(root.resolve("etc/cvm-manager/manager.env.dist")), "no .dist while the two agree");

    FileTime old = FileTime.from(Instant.parse("2001-01-01T00:00:00Z"));
    for (String path : INSTALLED.keySet()) {
      Files.setLastModifiedTime(root.resolve(path), old);
    }
    Run second = install(root, "--jar", jar.toString());
    assertEquals(0, second.exit(), second.out());
    assertEquals(INSTALLED.size(), second.out().lines().count(), second.out());
    assertTrue(second.out().lines().allMatch(l -> l.startsWith("unchanged ")), second.out());
    for (String path : INSTALLED.keySet()) {
      assertEquals(old, Files.getLastModifiedTime(root.resolve(path)), path + " was touched");
    }

    Path env = root.resolve("etc/cvm-manager/manager.env");
    String edited = Files.readString(env) + "MANAGER_GRPC_PORT=7101\n";
    Files.writeString(env, edited);
    Run upgrade = install(root, "--jar", jar(tmp.resolve("next.jar"), "second").toString());
    assertEquals(0, upgrade.exit(), upgrade.out());
    assertTrue(upgrade.out().contains("updated   /opt/cvm-manager/cvm-manager.jar"), upgrade.out());
    assertTrue(upgrade.out().contains("kept      " + INSTALLED_ENV), upgrade.out());
    assertEquals(edited, Files.readString(env), "the operator's manager.env was changed");
    Path dist = root.resolve("etc/cvm-manager/manager.env.dist");
    assertEquals(-1, Files.mismatch(ENV_FILE, dist), "the shipped env file goes next to it as .dist");
    assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dist)));
  }

  @Test
  void installedCvmctlUsesTheInstalledJarOnly(@TempDir Path tmp) throws IOException {
    Path root = tmp.resolve("root");
    Run installed = install(root, "--jar", jar(tmp.resolve("cvm-manager.jar"), "x").toString());
    assertEquals(0, installed.exit(), installed.out());
    Path cvmctl = root.resolve("usr/local/bin/cvmctl");
    List<String> candidates = Files.readAllLines(cvmctl).stream()
        .filter(l -> l.trim().startsWith("candidates=")).toList();
    assertEquals(List.of("  candidates=(" + INSTALLED_JAR + ")"), candidates);
    // Run from elsewhere, as an operator would: the only jar it looks for is the installed one (absent here).
    Run run = run(List.of("bash", cvmctl.toString(), "list"), Map.of());
    assertEquals(1, run.exit(), run.out());
    assertTrue(run.out().contains("(looked for " + INSTALLED_JAR + ")"), run.out());
  }

  @Test
  void installRefusesAMissingJarAndANonRootUserWithoutDestdir(@TempDir Path tmp) throws IOException {
    Path missing = tmp.resolve("nope.jar");
    Run noJar = install(tmp.resolve("root"), "--jar", missing.toString());
    assertEquals(1, noJar.exit(), noJar.out());
    assertTrue(noJar.out().contains("install.sh: no jar at " + missing), noJar.out());
    assertFalse(Files.exists(tmp.resolve("root")), "nothing installed without a jar");

    List<String> asUser = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      asUser.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
    }
    asUser.addAll(List.of("bash", INSTALL.toAbsolutePath().toString()));
    Run notRoot = run(asUser, Map.of());
    assertEquals(1, notRoot.exit(), notRoot.out());
    assertTrue(notRoot.out().contains("install.sh: must run as root"), notRoot.out());
  }

  @Test
  void unitRunsTheInstalledJarWithTheInstalledEnvFileInTheStateDirectory() throws IOException {
    Map<String, List<String>> service = section(Files.readAllLines(UNIT), "Service");
    assertEquals(List.of("process"), service.get("KillMode"), "stopping the unit must not kill the VMs");
    assertEquals(List.of(INSTALLED_ENV), service.get("EnvironmentFile"));
    assertEquals(List.of("/opt/cvm-manager/cvm-manager-start " + INSTALLED_JAR), service.get("ExecStart"));
    Path stateDir = ConfigParser.defaultStateDir(Path.of("/root"), true);
    assertEquals(List.of(stateDir.toString()), service.get("WorkingDirectory"));
    assertEquals(List.of(stateDir.getFileName().toString()), service.get("StateDirectory"));
    String installer = Files.readString(INSTALL);
    assertTrue(installer.contains("installed_jar=" + INSTALLED_JAR) && installer.contains("env_file=" + INSTALLED_ENV)
        && installer.contains("state_dir=" + stateDir), "install.sh and the unit name different paths");
  }

  /**
   * systemd-analyze verify (Debian 12: the systemd package; it works without systemd as PID 1) on a copy named
   * cvm-manager.service. verify fails when ExecStart's program does not exist: where /usr/bin/java is missing, the
   * copy names the java running this test instead. Unknown keys are only warnings, so any output fails the test.
   */
  @Test
  void unitPassesSystemdAnalyzeVerify(@TempDir Path tmp) throws IOException {
    Optional<Path> analyze = onPath("systemd-analyze");
    Assumptions.assumeTrue(analyze.isPresent(),
        "systemd-analyze is not installed (Debian: apt-get install systemd; deploy/packages.sh installs it)");
    String unit = Files.readString(UNIT);
    Matcher exec = Pattern.compile("(?m)^ExecStart=(\\S+)").matcher(unit);
    assertTrue(exec.find(), "no ExecStart");
    if (!Files.isExecutable(Path.of(exec.group(1)))) {
      String java = ProcessHandle.current().info().command().orElseThrow();
      unit = unit.replace("ExecStart=" + exec.group(1) + " ", "ExecStart=" + java + " ");
    }
    Path copy = tmp.resolve("cvm-manager.service");
    Files.writeString(copy, unit);
    Run run = run(List.of(analyze.get().toString(), "verify", copy.toString()), Map.of("SYSTEMD_LOG_COLOR", "0"));
    assertEquals(0, run.exit(), run.out());
    assertEquals("", run.out().strip(), "systemd-analyze verify warned");
  }

  private static Map<String, List<String>> section(List<String> lines, String name) {
    Map<String, List<String>> keys = new HashMap<>();
    String current = "";
    for (String line : lines) {
      if (line.startsWith("[")) {
        current = line.substring(1, line.indexOf(']'));
      } else if (current.equals(name) && !line.startsWith("#") && line.contains("=")) {
        keys.computeIfAbsent(line.substring(0, line.indexOf('=')), k -> new ArrayList<>())
            .add(line.substring(line.indexOf('=') + 1));
      }
    }
    return keys;
  }

  private static Run install(Path destdir, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("bash", INSTALL.toString()));
    command.addAll(Arrays.asList(args));
    return run(command, Map.of("DESTDIR", destdir.toString()));
  }

  /** A real (if tiny) jar, distinct per label, so install.sh sees an upgrade when the label changes. */
  private static Path jar(Path path, String label) throws IOException {
    try (OutputStream out = Files.newOutputStream(path); ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
      zip.write(("Manifest-Version: 1.0\nImplementation-Version: " + label + "\n").getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    }
    return path;
  }

  private static Optional<Path> onPath(String program) {
    return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
        .map(dir -> Path.of(dir, program)).filter(Files::isExecutable).findFirst();
  }

  private static Run run(List<String> command, Map<String, String> env) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("CVM_MANAGER_JAR");
    builder.environment().remove("DESTDIR");
    builder.environment().putAll(env);
    Process p = builder.start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError(command + " did not end:\n" + out);
      }
      return new Run(p.exitValue(), out);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    } finally {
      p.destroyForcibly();
    }
  }

  private static Map<String, String> orderedMap(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return map;
  }

  /** deploy/cluster.env, the README's example node of a 3-node cluster, is a valid clustered configuration. */
  @Test
  void clusterExampleIsAValidClusteredConfiguration() throws Exception {
    Map<String, String> values = new HashMap<>();
    for (String line : Files.readAllLines(Path.of("deploy/cluster.env"))) {
      if (!line.startsWith("#") && line.contains("=")) {
        values.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
      }
    }
    ClusterConfig cluster = ConfigParser.parse(values, Path.of("/root"), true).cluster();
    assertTrue(cluster.enabled());
    assertEquals("tee-a", cluster.nodeName());
    assertEquals(3, cluster.members().size());
    assertTrue(cluster.tls().isPresent() && !cluster.insecure());
  }
}
