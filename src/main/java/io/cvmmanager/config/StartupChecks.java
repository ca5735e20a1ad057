package io.cvmmanager.config;

import io.cvmmanager.attestation.ReferenceFiles;
import io.cvmmanager.vm.Tee;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The checks that need the host: which TEE the VMs will run (SEV-SNP and TDX {@code auto} detect, {@code true} on a
 * host without the feature is an error), KVM present when asked for, and every file the chosen mode needs. Runs once
 * at start-up, before Vert.x, so a misconfigured manager never listens.
 */
public final class StartupChecks {
  private final ManagerConfig config;
  private final HostFacts host;
  private final String path;
  private final List<String> problems = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  /** The outcome: the config (QEMU binary made absolute under sudo), the TEE, and lines worth logging. */
  public record Checked(ManagerConfig config, Tee tee, List<String> notes) {}

  private StartupChecks(ManagerConfig config, HostFacts host, String path) {
    this.config = config;
    this.host = host;
    this.path = path == null ? "" : path;
  }

  /**
   * @param path the PATH to look the QEMU binary (and sudo) up in
   */
  public static Checked check(ManagerConfig config, HostFacts host, String path) throws InvalidConfigException {
    return new StartupChecks(config, host, path).run();
  }

  private Checked run() throws InvalidConfigException {
    QemuConfig qemu = config.qemu();
    if (qemu.enableKvm() && !host.kvm()) {
      problems.add("MANAGER_QEMU_ENABLE_KVM: true, but " + host.root().resolve("dev/kvm")
          + " is missing or not readable and writable by this user (set false to run under TCG)");
    }
    Tee tee = resolveTee(qemu);

    QemuConfig checkedQemu = qemu;
    Optional<Path> binary = executable(qemu.binPath());
    if (binary.isEmpty()) {
      problems.add("MANAGER_QEMU_BIN_PATH: " + qemu.binPath() + " is not an executable file"
          + (qemu.binPath().contains("/") ? "" : " on PATH") + " (Debian package qemu-system-x86)");
    } else if (qemu.useSudo()) {
      checkedQemu = qemu.withBinPath(binary.get().toString());
      if (executable("sudo").isEmpty()) {
        problems.add("MANAGER_QEMU_USE_SUDO: true, but sudo is not on PATH");
      }
    }

    if (tee == Tee.NONE) {
      needFile("MANAGER_QEMU_OVMF_CODE_FILE", qemu.ovmf().codeFile());
      needFile("MANAGER_QEMU_OVMF_VARS_FILE", qemu.ovmf().varsFile());
    }
    if (qemu.disk().enabled()) {
      needFile("MANAGER_QEMU_SRC_DISK_FILE", qemu.disk().srcFile());
    } else {
      needFile("MANAGER_QEMU_DISK_IMG_KERNEL_FILE", qemu.kernel().kernelFile());
      needFile("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", qemu.kernel().rootfsFile());
    }
    if (tee == Tee.SEV_SNP) {
      needFile("MANAGER_QEMU_IGVM_FILE", qemu.sevSnp().igvmFile());
      String measure = config.attestation().igvmmeasureBinary();
      if (!Files.isExecutable(Path.of(measure)) && !Files.isExecutable(Path.of(measure, "igvmmeasure"))) {
        notes.add("warning: MANAGER_IGVMMEASURE_BINARY " + measure
            + " is not an executable igvmmeasure (nor a directory holding one): AttestationPolicy will fail");
      }
    }
    if (tee == Tee.TDX) {
      needFile("MANAGER_QEMU_OVMF_FILE", qemu.tdx().ovmfFile());
    }
    if (qemu.sevSnp().enableHostData() && tee != Tee.SEV_SNP) {
      notes.add("warning: MANAGER_QEMU_ENABLE_HOST_DATA is set but VMs do not run SEV-SNP: it has no effect");
    }
    checkTls("GRPC", config.grpcTls());
    checkTls("HTTP", config.httpTls());
    config.cluster().tls().ifPresent(tls -> {
      needFile("MANAGER_CLUSTER_TLS_CERT", tls.cert());
      needFile("MANAGER_CLUSTER_TLS_KEY", tls.key());
      needFile("MANAGER_CLUSTER_TLS_CA", tls.ca());
    });
    config.attestation().pcrValues().ifPresent(p -> loadable("MANAGER_PCR_VALUES", p, ReferenceFiles::pcrValues));
    config.attestation().corimSigningKey()
        .ifPresent(p -> loadable("MANAGER_CORIM_SIGNING_KEY", p, ReferenceFiles::signingKey));

    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems);
    }
    return new Checked(config.withQemu(checkedQemu), tee, List.copyOf(notes));
  }

  private Tee resolveTee(QemuConfig qemu) {
    boolean snp = resolve("MANAGER_QEMU_ENABLE_SEV_SNP", "SEV-SNP", qemu.sevSnp().enable(), host.sevSnp(),
        qemu.enableKvm());
    boolean tdx = resolve("MANAGER_QEMU_ENABLE_TDX", "TDX", qemu.tdx().enable(), host.tdx(), qemu.enableKvm());
    if (snp && tdx) {
      problems.add("MANAGER_QEMU_ENABLE_TDX: SEV-SNP and TDX cannot both be enabled");
      return Tee.NONE;
    }
    return snp ? Tee.SEV_SNP : tdx ? Tee.TDX : Tee.NONE;
  }

  private boolean resolve(String variable, String feature, Tristate setting, boolean present, boolean kvm) {
    switch (setting) {
      case TRUE -> {
        if (!present) {
          problems.add(variable + ": true, but this host has no " + feature + " (checked "
              + host.root().resolve("proc/cpuinfo") + " and the kvm module parameter)");
        }
        if (!kvm) {
          problems.add(variable + ": " + feature + " needs MANAGER_QEMU_ENABLE_KVM=true");
        }
        return present && kvm;
      }
      case AUTO -> {
        if (present && !kvm) {
          notes.add(feature + " detected but MANAGER_QEMU_ENABLE_KVM=false: VMs run without " + feature);
        } else if (present) {
          notes.add(feature + " detected (" + variable + "=auto): VMs run under " + feature);
        }
        return present && kvm;
      }
      default -> {
        return false;
      }
    }
  }

  private void checkTls(String server, TlsFiles tls) {
    tls.cert().ifPresent(f -> needFile("MANAGER_" + server + "_SERVER_CERT", f));
    tls.key().ifPresent(f -> needFile("MANAGER_" + server + "_SERVER_KEY", f));
    tls.serverCaCerts().ifPresent(f -> needFile("MANAGER_" + server + "_SERVER_CA_CERTS", f));
    tls.clientCaCerts().ifPresent(f -> needFile("MANAGER_" + server + "_CLIENT_CA_CERTS", f));
  }

  private void needFile(String variable, String file) {
    Path p = Path.of(file);
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      problems.add(variable + ": " + file + " is missing or not a readable file");
    }
  }

  /** A file whose content the attestation policy needs: read and checked now, so a bad one stops start-up. */
  private void loadable(String variable, Path file, ReferenceFiles.Loader<?> loader) {
    try {
      loader.load(file);
    } catch (IllegalArgumentException e) {
      problems.add(variable + ": " + e.getMessage());
    }
  }

  private Optional<Path> executable(String program) {
    if (program.contains("/")) {
      Path p = Path.of(program).toAbsolutePath();
      return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, program);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
