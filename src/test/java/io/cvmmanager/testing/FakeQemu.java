package io.cvmmanager.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * A FAKE QEMU (src/test/resources/fake-qemu/fake-qemu.py) for tests of faults: it serves QMP, writes its pid file
 * and runs no guest, and it takes fault switches (see the script's header): {@code exit=N}, {@code no-socket},
 * {@code no-greeting}, {@code hang-after-greeting}, {@code ignore-powerdown}, {@code ignore-quit},
 * {@code ignore-sigterm}, {@code die-after=MS}, {@code hold=<QMP command, greeting or start>}. A hold stops the fake at
 * that step until the test releases it, so a test can act at a chosen step of a create without sleeping.
 */
public final class FakeQemu {
  private static final Path SCRIPT = Path.of("src/test/resources/fake-qemu/fake-qemu.py").toAbsolutePath();
  /** The system's python3, not a version manager's shim, which would add a process start to every spawn. */
  private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3"
      : "python3";
  private static final Duration HOLD_WAIT = Duration.ofSeconds(30);

  private FakeQemu() {}

  /**
   * Writes an executable wrapper into {@code dir} (a test's temp dir) that runs the fake with {@code faults}, and
   * returns its path, for MANAGER_QEMU_BIN_PATH. The wrapper execs the fake: the PID the manager sees is the fake's.
   */
  public static Path binary(Path dir, String... faults) {
    String list = String.join(",", faults);
    if (list.contains("'")) {
      throw new IllegalArgumentException("a fault switch with a quote: " + list);
    }
    try {
      Path wrapper = Files.createTempFile(dir, "fake-qemu-", ".sh",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.writeString(wrapper, "#!/bin/sh\nFAKE_QEMU_FAULTS='" + list + "' exec " + PYTHON + " " + SCRIPT
          + " \"$@\"\n");
      return wrapper;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until the fake of the VM in {@code vmDir} holds at {@code command} (a QMP command, "greeting" or
   * "start"). */
  public static void awaitHeld(Path vmDir, String command) {
    await().atMost(HOLD_WAIT).until(() -> Files.exists(held(vmDir, command)));
  }

  /**
   * Waits until the fake of one VM under {@code stateDir} holds at {@code command}, and returns that VM's directory:
   * for a held CreateVm, whose reply (the id) has not come yet.
   */
  public static Path awaitHeldVm(Path stateDir, String command) {
    return await().atMost(HOLD_WAIT).until(() -> heldVms(stateDir, command), vms -> vms.size() == 1).get(0);
  }

  /** Lets the fake of the VM in {@code vmDir} go on past {@code command}, and any later hold at it. */
  public static void release(Path vmDir, String command) {
    try {
      Path release = vmDir.resolve("fake-qemu.release." + command);
      if (!Files.exists(release)) {
        Files.createFile(release);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Directories of the VMs under {@code stateDir} whose fake holds at {@code command} now (not yet released). */
  public static List<Path> heldNow(Path stateDir, String command) throws IOException {
    try (Stream<Path> dirs = Files.list(stateDir.resolve("vms"))) {
      return dirs.filter(dir -> Files.exists(held(dir, command))
          && !Files.exists(dir.resolve("fake-qemu.release." + command))).toList();
    }
  }

  private static Path held(Path vmDir, String command) {
    return vmDir.resolve("fake-qemu.held." + command);
  }

  private static List<Path> heldVms(Path stateDir, String command) throws IOException {
    try (Stream<Path> dirs = Files.list(stateDir.resolve("vms"))) {
      return dirs.filter(dir -> Files.exists(held(dir, command))).toList();
    }
  }
}
