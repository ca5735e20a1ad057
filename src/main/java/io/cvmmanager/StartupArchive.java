package io.cvmmanager;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's AppCDS archive (deploy/cds.sh chooses the JVM options): a JVM started without a usable archive, with
 * {@code -XX:+RecordDynamicDumpInfo -Dcvm.cds.archive=<path>}, dumps the classes it has loaded by the time it serves
 * into {@code <path>}, so that the next start maps them instead of loading, verifying and linking them again. The
 * dump goes to a temp file renamed over the archive: JDK 17 crashes on a truncated archive, and a manager killed
 * mid-dump must leave none. Best effort: a dump that fails is logged, and the next start simply has no archive.
 */
final class StartupArchive {
  static final String PROPERTY = "cvm.cds.archive";
  private static final Logger LOG = LoggerFactory.getLogger(StartupArchive.class);

  private StartupArchive() {}

  /** The archive to write, when the JVM was started to write one. */
  static Optional<Path> requested() {
    return Optional.ofNullable(System.getProperty(PROPERTY)).filter(p -> !p.isBlank()).map(Path::of);
  }

  /**
   * Dumps into {@code archive} through the JVM's own diagnostic command ({@code jcmd VM.cds dynamic_dump}): blocking
   * (the JVM stops at a safepoint while it writes; about a second), so called on a thread of its own.
   */
  static void dump(Path archive) {
    Path temp = archive.resolveSibling(archive.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(temp);
      ManagementFactory.getPlatformMBeanServer().invoke(
          new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmCds",
          new Object[] {new String[] {"dynamic_dump", temp.toString()}}, new String[] {String[].class.getName()});
      if (!Files.isRegularFile(temp) || Files.size(temp) == 0) {
        LOG.warn("start-up archive: the JVM wrote no {}; the next start loads its classes from the jar", temp);
        return;
      }
      Files.move(temp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      LOG.info("start-up archive: {} written ({} KiB); the next start maps its classes from it", archive,
          Files.size(archive) / 1024);
    } catch (Exception e) {
      LOG.warn("start-up archive: not written ({}); the next start loads its classes from the jar", e.toString());
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // nothing more to do: the temp file is never read
      }
    }
  }

  /** {@link #dump} on a daemon thread of its own, when the JVM was started to write an archive. */
  static void dumpInBackground() {
    requested().ifPresent(archive -> {
      Thread thread = new Thread(() -> dump(archive), "cvm-startup-archive");
      thread.setDaemon(true);
      thread.start();
    });
  }
}
