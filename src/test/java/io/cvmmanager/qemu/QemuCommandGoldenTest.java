package io.cvmmanager.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.InvalidConfigException;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.config.Tristate;
import io.cvmmanager.resources.Demand;
import io.cvmmanager.resources.HostInventory;
import io.cvmmanager.resources.NumaNode;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.resources.ResourceLedger;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * libvirt-style golden tests of {@link QemuCommand#build}, the function the create saga calls. Each
 * {@code <case>.env} under src/test/resources/qemu-args/ gives MANAGER_* settings, a CreateVm request ({@code VM_}
 * + a request field, see {@link #REQUEST_FIELDS}) and the values the launcher decides per VM ({@code VM_ID},
 * {@code VM_PORT}, {@code VM_HOST_DATA}, {@code VM_GPU}: the BDF admission gave it, which a case with one
 * MANAGER_QEMU_GPU_BDF may leave out, as admission can only give that one; {@code VM_HOST_NUMA}: the host's NUMA
 * nodes, {@code <cpulist>/<memory>} for node 0, 1, … comma-separated, on which the ledger places the VM as it would
 * at admission; {@code VM_VCPUS}, {@code VM_MEMORY}: the VM's own sizes, as our CreateVm gives them). Its partner is either {@code <case>.args}, the spawn command less {@code setsid} one argument per
 * line (the {@link QemuCommand#numactl} prefix, empty for a VM placed on no NUMA node, then the argument list), or {@code <case>.err}, the configuration problems that refuse it, one per line. Expectations are written
 * by hand from the README ("Configuration" and "The QEMU command line"), never accepted from the code under test.
 * {@code -Dgolden.regenerate=true} rewrites each case's partner from the code, for review in the diff; CI never sets
 * it. The host is taken to have KVM, SEV-SNP and TDX: a case names its TEE with ENABLE_SEV_SNP or ENABLE_TDX=true.
 */
class QemuCommandGoldenTest {
  private static final Path DIR = Path.of("src/test/resources/qemu-args");
  private static final boolean REGENERATE = Boolean.getBoolean("golden.regenerate");
  private static final Set<String> PER_VM_KEYS = Set.of("VM_ID", "VM_PORT", "VM_HOST_DATA", "VM_GPU",
      "VM_HOST_NUMA", "VM_VCPUS", "VM_MEMORY");
  /** Each request key of a case, and the field of the request's bus form (VmCreateRequest.toJson) it sets. */
  private static final Map<String, String> REQUEST_FIELDS = Map.ofEntries(
      Map.entry("VM_AGENT_LOG_LEVEL", "agentLogLevel"),
      Map.entry("VM_SERVER_CA_CERT", "serverCaCert"),
      Map.entry("VM_CLIENT_KEY", "clientKey"),
      Map.entry("VM_CLIENT_CERT", "clientCert"),
      Map.entry("VM_SERVER_URL", "cvmServerUrl"),
      Map.entry("VM_CA_URL", "cvmCaUrl"),
      Map.entry("VM_TTL", "ttl"),
      Map.entry("VM_CERTS_TOKEN", "certsToken"),
      Map.entry("VM_AWS_ACCESS_KEY_ID", "awsAccessKeyId"),
      Map.entry("VM_AWS_SECRET_ACCESS_KEY", "awsSecretAccessKey"),
      Map.entry("VM_AWS_ENDPOINT_URL", "awsEndpointUrl"),
      Map.entry("VM_AWS_REGION", "awsRegion"),
      Map.entry("VM_AA_KBS_PARAMS", "aaKbsParams"));
  private static final Set<String> BINARY_FIELDS = Set.of("serverCaCert", "clientKey", "clientCert");
  /** Request values that must never reach a command line (it is in state.json and in `ps` output). */
  private static final Set<String> SECRET_KEYS = Set.of("VM_SERVER_CA_CERT", "VM_CLIENT_KEY", "VM_CLIENT_CERT",
      "VM_CERTS_TOKEN", "VM_AWS_ACCESS_KEY_ID", "VM_AWS_SECRET_ACCESS_KEY");

  static Stream<String> cases() throws IOException {
    return goldenFiles().stream()
        .filter(n -> n.endsWith(".env"))
        .map(n -> n.substring(0, n.length() - ".env".length()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void commandLineMatchesGolden(String name) throws Exception {
    Map<String, String> env = readEnv(DIR.resolve(name + ".env"));
    Map<String, String> manager = new LinkedHashMap<>();
    Map<String, String> vm = new LinkedHashMap<>();
    env.forEach((k, v) -> (k.startsWith("VM_") ? vm : manager).put(k, v));
    for (String key : vm.keySet()) {
      assertTrue(PER_VM_KEYS.contains(key) || REQUEST_FIELDS.containsKey(key), name + ".env: unknown key " + key);
    }

    Outcome outcome = outcome(name, manager, vm);
    Path golden = DIR.resolve(name + "." + outcome.kind());
    Path other = DIR.resolve(name + "." + (outcome.kind().equals("args") ? "err" : "args"));
    List<String> actual = outcome.lines();
    if (REGENERATE) {
      regenerate(golden, other, actual);
      return;
    }
    if (!Files.exists(golden)) {
      fail(name + " is " + (outcome.kind().equals("args") ? "accepted" : "refused") + ", but it has no "
          + golden.getFileName() + ":\n" + String.join("\n", actual));
    }
    List<String> expected = Files.readAllLines(golden, StandardCharsets.UTF_8);
    if (!expected.equals(actual)) {
      fail(golden.getFileName() + " differs (- expected, + actual):\n" + diff(expected, actual));
    }
  }

  /** A case's outcome: its argument list ("args"), or the problems that refuse its configuration ("err"). */
  private record Outcome(String kind, List<String> lines) {}

  private static Outcome outcome(String name, Map<String, String> manager, Map<String, String> vm) {
    ManagerConfig config;
    try {
      config = ConfigParser.parse(manager, Path.of("/root"), true);
    } catch (InvalidConfigException e) {
      return new Outcome("err", e.problems());
    }
    assertEquals(List.of(), config.warnings(), name + ".env: configuration warnings");
    assertTrue(vm.containsKey("VM_ID") && vm.containsKey("VM_PORT"),
        name + " is accepted, but its .env has no VM_ID and VM_PORT to build a command line with");
    LaunchInput input = launchInput(config, vm);
    List<String> args = new ArrayList<>(QemuCommand.numactl(input.tee(), input.placement()));
    args.addAll(QemuCommand.build(input));
    for (String secret : SECRET_KEYS) {
      Optional.ofNullable(vm.get(secret)).ifPresent(value -> assertTrue(
          args.stream().noneMatch(arg -> arg.contains(value)), name + ": " + secret + " is on the command line"));
    }
    return new Outcome("args", args);
  }

  private static LaunchInput launchInput(ManagerConfig config, Map<String, String> vm) {
    boolean snp = config.qemu().sevSnp().enable() == Tristate.TRUE;
    boolean tdx = config.qemu().tdx().enable() == Tristate.TRUE;
    assertFalse(snp && tdx, "SEV-SNP and TDX together are refused at start-up (StartupChecks), not here");
    Tee tee = snp ? Tee.SEV_SNP : tdx ? Tee.TDX : Tee.NONE;
    JsonObject request = new JsonObject();
    REQUEST_FIELDS.forEach((key, field) -> Optional.ofNullable(vm.get(key)).ifPresent(value -> request.put(field,
        BINARY_FIELDS.contains(field) ? (Object) value.getBytes(StandardCharsets.UTF_8) : value)));
    String id = vm.get("VM_ID");
    // The VM's own sizes replace the configured ones, as the create saga does with those admission recorded.
    QemuConfig sized = config.qemu().withVmSize(Integer.parseInt(vm.getOrDefault("VM_VCPUS",
        String.valueOf(config.qemu().smp().count()))), vm.getOrDefault("VM_MEMORY", config.qemu().memory().size()));
    return new LaunchInput(sized, tee, VmCreateRequest.fromJson(request), id,
        VmPaths.of(config.stateDir(), id), Integer.parseInt(vm.get("VM_PORT")),
        Optional.ofNullable(vm.get("VM_HOST_DATA")), gpu(config.qemu().gpu().devices(), vm),
        placement(config, tee, id, vm.getOrDefault("VM_HOST_NUMA", "")));
  }

  /** Where admission places the case's VM on a host of the case's NUMA nodes (and no other limit). */
  private static Placement placement(ManagerConfig config, Tee tee, String id, String hostNodes) {
    List<NumaNode> nodes = new ArrayList<>();
    for (String node : hostNodes.isEmpty() ? new String[0] : hostNodes.split(",")) {
      String[] cpusAndMemory = node.split("/");
      nodes.add(new NumaNode(nodes.size(), cpusAndMemory[0], QemuConfig.Memory.bytesOf(cpusAndMemory[1])));
    }
    HostInventory host = new HostInventory(OptionalLong.empty(), OptionalInt.empty(), Optional.empty(),
        Optional.empty(), List.of(), OptionalLong.empty(), List.of(), nodes);
    ResourceLedger ledger = new ResourceLedger(host, new ResourceLedger.Ratios(1.0, 1.0),
        config.resources().numa() == ManagerConfig.Numa.AUTO);
    return ledger.admit(id, new Demand(config.qemu().memory().sizeBytes(), config.qemu().smp().count(), tee, false,
        0)).placement();
  }

  /** The GPU a case's VM was given: its VM_GPU, else the one BDF of the configuration; none without GPU mode. */
  private static Optional<String> gpu(QemuConfig.GpuDevices devices, Map<String, String> vm) {
    Optional<String> given = Optional.ofNullable(vm.get("VM_GPU"));
    assertEquals(devices.enabled(), given.isPresent() || devices.bdfs().size() == 1,
        "VM_GPU is " + given + " for MANAGER_QEMU_GPU_BDF=" + devices.setting() + ": a VM has a GPU iff in GPU mode");
    given.ifPresent(bdf -> assertTrue(devices.auto() || devices.bdfs().contains(bdf),
        "VM_GPU " + bdf + " is not one of MANAGER_QEMU_GPU_BDF=" + devices.setting()));
    return given.or(() -> devices.bdfs().stream().findFirst());
  }

  /**
   * Writes a case's outcome as its golden when it differs, and drops a partner of the other kind, so that the diff
   * shows exactly what changed.
   */
  static void regenerate(Path golden, Path other, List<String> actual) throws IOException {
    if (!Files.exists(golden) || !Files.readAllLines(golden, StandardCharsets.UTF_8).equals(actual)) {
      Files.write(golden, actual, StandardCharsets.UTF_8);
      System.out.println("golden.regenerate: wrote " + golden + " (review it in the diff)");
    }
    Files.deleteIfExists(other);
  }

  @Test
  void everyGoldenFileHasItsPartner() throws IOException {
    assertEquals(List.of(), partnerProblems(goldenFiles()));
  }

  @Test
  void partnerProblemsNamesEveryOrphan() {
    assertEquals(List.of("a.args has no a.env", "b.env has both b.args and b.err", "c.env has neither c.args nor c.err",
        "d.err has no d.env", "notes.txt is not a golden file (.env, .args, .err)"),
        partnerProblems(List.of("a.args", "b.env", "b.args", "b.err", "c.env", "d.err", "ok.env", "ok.args",
            "notes.txt")));
  }

  /** What is wrong with a golden directory's file names: each .env needs one .args or .err, and nothing else. */
  static List<String> partnerProblems(List<String> files) {
    Map<String, Set<String>> kinds = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    for (String file : files) {
      int dot = file.lastIndexOf('.');
      String kind = dot < 0 ? "" : file.substring(dot + 1);
      if (!Set.of("env", "args", "err").contains(kind)) {
        problems.add(file + " is not a golden file (.env, .args, .err)");
      } else {
        kinds.computeIfAbsent(file.substring(0, dot), k -> new TreeSet<>()).add(kind);
      }
    }
    kinds.forEach((name, present) -> {
      if (!present.contains("env")) {
        present.forEach(kind -> problems.add(name + "." + kind + " has no " + name + ".env"));
      } else if (present.containsAll(Set.of("args", "err"))) {
        problems.add(name + ".env has both " + name + ".args and " + name + ".err");
      } else if (present.size() == 1) {
        problems.add(name + ".env has neither " + name + ".args nor " + name + ".err");
      }
    });
    problems.sort(null);
    return problems;
  }

  @Test
  void regenerateWritesTheOutcomeAndDropsTheStalePartner(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("x.args"), "old\n");
    regenerate(dir.resolve("x.err"), dir.resolve("x.args"), List.of("MANAGER_QEMU_CPU: bad"));
    assertEquals(List.of("MANAGER_QEMU_CPU: bad"), Files.readAllLines(dir.resolve("x.err")));
    assertFalse(Files.exists(dir.resolve("x.args")));
  }

  @Test
  void theRequiredModesAreCovered() throws IOException {
    List<String> names = cases().toList();
    for (String required : List.of("kernel-kvm", "kernel-tcg", "sudo", "custom-memory-cpus", "paused",
        "aa-kbs-params", "certs-env-9p", "disk", "sev-snp", "sev-snp-host-data", "sev-snp-disk", "sev-snp-ids",
        "sev-snp-gpu", "tdx", "tdx-disk", "tdx-gpu", "gpu", "gpu-list-second", "gpu-auto", "graphic", "romfile",
        "numa-one-node", "numa-off", "numa-bind", "numa-bind-sev-snp", "numa-bind-tdx", "numa-spread",
        "numa-interleave-sev-snp", "vm-sized")) {
      assertTrue(names.contains(required), "no golden case " + required);
    }
    assertTrue(names.stream().anyMatch(n -> Files.exists(DIR.resolve(n + ".err"))), "no refused case (.err)");
  }

  @Test
  void aOneNodeHostAndNumaOffKeepUpstreamsArguments() throws IOException {
    List<String> devProfile = Files.readAllLines(DIR.resolve("dev-profile.args"), StandardCharsets.UTF_8);
    assertEquals(devProfile, Files.readAllLines(DIR.resolve("numa-one-node.args"), StandardCharsets.UTF_8));
    assertEquals(devProfile, Files.readAllLines(DIR.resolve("numa-off.args"), StandardCharsets.UTF_8));
  }

  @Test
  void diffShowsTheChangedLine() {
    assertEquals("  a\n- b\n+ c\n", diff(List.of("a", "b"), List.of("a", "c")));
  }

  private static List<String> goldenFiles() throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static Map<String, String> readEnv(Path file) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      assertTrue(eq > 0, file.getFileName() + ": not KEY=value: " + line);
      assertTrue(env.put(line.substring(0, eq), line.substring(eq + 1)) == null,
          file.getFileName() + ": " + line.substring(0, eq) + " given twice");
    }
    return env;
  }

  /** A line diff (longest common subsequence): "  " same, "- " only expected, "+ " only actual. */
  static String diff(List<String> expected, List<String> actual) {
    int[][] lcs = new int[expected.size() + 1][actual.size() + 1];
    for (int i = expected.size() - 1; i >= 0; i--) {
      for (int j = actual.size() - 1; j >= 0; j--) {
        lcs[i][j] = expected.get(i).equals(actual.get(j))
            ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> out = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < expected.size() || j < actual.size()) {
      if (i < expected.size() && j < actual.size() && expected.get(i).equals(actual.get(j))) {
        out.add("  " + expected.get(i++));
        j++;
      } else if (i < expected.size() && (j == actual.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
        out.add("- " + expected.get(i++));
      } else {
        out.add("+ " + actual.get(j++));
      }
    }
    return String.join("\n", out) + "\n";
  }
}
