package io.cvmmanager.qemu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * libvirt-style golden tests: each {@code <case>.env} under src/test/resources/qemu-args/ gives MANAGER_* settings
 * and VM_* per-VM values; {@code <case>.args} is the expected argument list, one per line, written by hand from
 * spec/config.md. The host is taken to have KVM, SEV-SNP and TDX, so the cases say which they use.
 */
class QemuCommandGoldenTest {
  private static final Path DIR = Path.of("src/test/resources/qemu-args");

  static Stream<String> cases() throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".env"))
          .map(n -> n.substring(0, n.length() - ".env".length()))
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void commandLineMatchesGolden(String name) throws Exception {
    Map<String, String> env = readEnv(DIR.resolve(name + ".env"));
    Map<String, String> manager = new LinkedHashMap<>();
    env.forEach((k, v) -> {
      if (!k.startsWith("VM_")) {
        manager.put(k, v);
      }
    });
    ManagerConfig config = ConfigParser.parse(manager, Path.of("/root"), true);
    boolean snp = Boolean.parseBoolean(env.get("MANAGER_QEMU_ENABLE_SEV_SNP"));
    boolean tdx = Boolean.parseBoolean(env.get("MANAGER_QEMU_ENABLE_TDX"));
    Tee tee = snp ? Tee.SEV_SNP : tdx ? Tee.TDX : Tee.NONE;
    String id = env.get("VM_ID");
    VmLaunch vm = new VmLaunch(id, VmPaths.of(config.stateDir(), id), Integer.parseInt(env.get("VM_PORT")),
        Boolean.parseBoolean(env.get("VM_CERTS")), Boolean.parseBoolean(env.get("VM_ENV")),
        Optional.ofNullable(env.get("VM_AA_KBS_PARAMS")), Optional.ofNullable(env.get("VM_HOST_DATA")));

    List<String> actual = QemuCommand.build(config.qemu(), tee, vm);
    List<String> expected = Files.readAllLines(DIR.resolve(name + ".args"), StandardCharsets.UTF_8);
    if (!expected.equals(actual)) {
      fail("QEMU command line for case " + name + " differs from " + name + ".args:\n" + diff(expected, actual));
    }
  }

  @Test
  void everyCaseHasItsGoldenAndTheRequiredModesAreCovered() throws IOException {
    List<String> names = cases().toList();
    for (String name : names) {
      assertTrue(Files.exists(DIR.resolve(name + ".args")), name + ".args is missing");
    }
    for (String required : List.of("kernel-kvm", "kernel-tcg", "sudo", "custom-memory-cpus", "paused",
        "aa-kbs-params", "certs-env-9p", "disk", "sev-snp", "sev-snp-host-data", "sev-snp-disk", "tdx", "tdx-disk",
        "gpu")) {
      assertTrue(names.contains(required), "no golden case " + required);
    }
  }

  @Test
  void diffShowsTheChangedLine() {
    assertEquals("  a\n- b\n+ c\n", diff(List.of("a", "b"), List.of("a", "c")));
  }

  private static Map<String, String> readEnv(Path file) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      env.put(line.substring(0, eq), line.substring(eq + 1));
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
