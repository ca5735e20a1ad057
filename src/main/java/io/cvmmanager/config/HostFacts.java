package io.cvmmanager.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * What the host offers, read below a root directory (MANAGER_HOST_ROOT, "/" in production) so that tests can run
 * the SEV-SNP and TDX paths against a fake tree. Detection is upstream's: a CPU flag and the kvm module parameter.
 */
public record HostFacts(Path root, boolean kvm, boolean sevSnp, boolean tdx) {
  private static final Pattern FLAG_SEPARATOR = Pattern.compile("[\\s:]+");

  public static HostFacts detect(Path root) {
    Path kvmDevice = root.resolve("dev/kvm");
    boolean kvm = Files.exists(kvmDevice) && Files.isReadable(kvmDevice) && Files.isWritable(kvmDevice);
    String cpuinfo = read(root.resolve("proc/cpuinfo"));
    boolean snp = hasFlag(cpuinfo, "sev_snp") && isYes(read(root.resolve("sys/module/kvm_amd/parameters/sev_snp")));
    boolean tdx = hasFlag(cpuinfo, "tdx_host_platform")
        && isYes(read(root.resolve("sys/module/kvm_intel/parameters/tdx")));
    return new HostFacts(root, kvm, snp, tdx);
  }

  private static boolean hasFlag(String cpuinfo, String flag) {
    return cpuinfo.lines()
        .filter(line -> line.startsWith("flags"))
        .anyMatch(line -> Arrays.asList(FLAG_SEPARATOR.split(line)).contains(flag));
  }

  private static boolean isYes(String parameter) {
    String value = parameter.trim();
    return value.equals("Y") || value.equals("y") || value.equals("1");
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }
}
