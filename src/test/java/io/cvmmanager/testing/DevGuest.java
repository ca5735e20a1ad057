package io.cvmmanager.testing;

import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.InvalidConfigException;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.qemu.VmPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The development guest built by deploy/guest/build.sh (deploy/test.sh builds it before the tests run). */
public final class DevGuest {
  private DevGuest() {}

  public static Path dir() {
    String env = System.getenv("CVM_GUEST_DIR");
    return env != null && !env.isEmpty() ? Path.of(env)
        : Path.of(System.getProperty("user.home"), ".cache/cvm-manager/guest");
  }

  public static Path kernel() {
    return require(dir().resolve("bzImage"));
  }

  public static Path rootfs() {
    return require(dir().resolve("rootfs.cpio.gz"));
  }

  public static Path disk() {
    return require(dir().resolve("uvc_os.qcow2"));
  }

  /**
   * The configuration that boots this guest in kernel mode under TCG (CPU {@code max}, its console on ttyS0) with
   * state in {@code stateDir}, and {@code sizes} (MANAGER_QEMU_SMP_*, MANAGER_QEMU_MEMORY_SIZE).
   */
  public static ManagerConfig tcgConfig(Path stateDir, Map<String, String> sizes) throws InvalidConfigException {
    Map<String, String> settings = new HashMap<>(sizes);
    settings.putAll(Map.of(
        "MANAGER_STATE_DIR", stateDir.toString(),
        "MANAGER_QEMU_ENABLE_KVM", "false",
        "MANAGER_QEMU_CPU", "max",
        "MANAGER_QEMU_KERNEL_CMDLINE", "console=ttyS0",
        "MANAGER_QEMU_DISK_IMG_KERNEL_FILE", kernel().toString(),
        "MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", rootfs().toString()));
    return ConfigParser.parse(settings, Path.of("/root"), true);
  }

  /** VM {@code id}'s directory as the files step makes it: empty certs and env shares, its own OVMF_VARS copy. */
  public static VmPaths vmDir(ManagerConfig config, String id) throws IOException {
    VmPaths paths = VmPaths.of(config.stateDir(), id);
    Files.createDirectories(paths.certs());
    Files.createDirectories(paths.env());
    Files.copy(Path.of(config.qemu().ovmf().varsFile()), paths.ovmfVars());
    return paths;
  }

  private static Path require(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(file + " is missing: run deploy/guest/build.sh (deploy/test.sh does)");
    }
    return file;
  }
}
