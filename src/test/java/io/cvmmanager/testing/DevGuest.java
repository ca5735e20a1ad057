package io.cvmmanager.testing;

import java.nio.file.Files;
import java.nio.file.Path;

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

  private static Path require(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(file + " is missing: run deploy/guest/build.sh (deploy/test.sh does)");
    }
    return file;
  }
}
