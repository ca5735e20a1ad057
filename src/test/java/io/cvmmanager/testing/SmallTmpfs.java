package io.cvmmanager.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

  public void unmount() throws Exception {
    assertEquals(0, new ProcessBuilder("umount", dir.toString()).inheritIO().start().waitFor(), "umount " + dir);
  }
}
