package io.cvmmanager.testing;

import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted on a directory of the test's, for a state dir that fills up. Mounting needs root (CI runs as
 * root); elsewhere the test is skipped with the reason. Unmount in the test's clean-up.
 */
public final class SmallTmpfs {
  private final Path dir;

  private SmallTmpfs(Path dir) {
    this.dir = dir;
  }

  /** A tmpfs of {@code size} (mount's syntax: {@code 1m}) on the new directory {@code dir}, mode 0700. */
  public static SmallTmpfs mount(Path dir, String size) throws Exception {
    Files.createDirectory(dir);
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs",
        dir.toString()).redirectErrorStream(true).start();
    String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    Assumptions.assumeTrue(mount.waitFor() == 0, "cannot mount a tmpfs as the state dir (root needed): " + output);
    return new SmallTmpfs(dir);
  }

  /**
   * Unmounts, waiting a little for files of the state dir that a stopped process or manager had open to be
   * closed (umount says "target is busy" until they are).
   */
  public void unmount() {
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() ->
        new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start().waitFor() == 0);
  }
}
