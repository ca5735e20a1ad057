package io.cvmmanager.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Stand-ins for {@code qemu-img} and each {@code qemu-system-*} in a directory that surefire puts first on the test
 * JVM's PATH (pom.xml, property {@code qemu.tripwire}): each writes one line to a log, then execs the real program
 * (same PID, same behaviour). Unlike sampling /proc, it cannot miss a run however short, but only of a program found
 * through PATH: one run by its absolute path, or with a PATH of the test's own, passes by.
 */
public final class QemuTripwire {
  private static final String LOG = "spawned.log";

  private final Path dir;

  private QemuTripwire(Path dir) {
    this.dir = dir;
  }

  /** The tripwire of this JVM, written anew, when the build set one up (not in an IDE that runs a test directly). */
  public static Optional<QemuTripwire> install() {
    String dir = System.getProperty("qemu.tripwire", "");
    if (dir.isEmpty() || !onPath(Path.of(dir))) {
      return Optional.empty();
    }
    QemuTripwire tripwire = new QemuTripwire(Path.of(dir));
    tripwire.writeStandIns();
    return Optional.of(tripwire);
  }

  private static boolean onPath(Path dir) {
    return pathEntries().anyMatch(dir::equals);
  }

  private static Stream<Path> pathEntries() {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).filter(e -> !e.isEmpty()).map(Path::of);
  }

  /** The real QEMU programs on PATH behind the tripwire, by name (the first of each name, as a shell finds it). */
  private Map<String, Path> realPrograms() {
    Map<String, Path> programs = new LinkedHashMap<>();
    pathEntries().filter(entry -> !entry.equals(dir) && Files.isDirectory(entry)).forEach(entry -> {
      try (Stream<Path> files = Files.list(entry)) {
        files.filter(file -> QemuProcesses.isQemu(file.getFileName().toString()) && Files.isExecutable(file))
            .forEach(file -> programs.putIfAbsent(file.getFileName().toString(), file));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    return programs;
  }

  private void writeStandIns() {
    try {
      Files.createDirectories(dir);
      for (Map.Entry<String, Path> program : realPrograms().entrySet()) {
        // Written to a temp file and moved: a stand-in is never seen half written.
        Path temp = Files.createTempFile(dir, program.getKey(), ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.writeString(temp, "#!/bin/sh\n"
            + "# io.cvmmanager.testing.QemuTripwire: notes this run for NoQemuInUnitTests, then runs the real one.\n"
            + "printf '%s\\n' \"$$ " + program.getKey() + " $*\" >> '" + dir.resolve(LOG) + "'\n"
            + "exec '" + program.getValue() + "' \"$@\"\n");
        Files.move(temp, dir.resolve(program.getKey()), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Where the log ends now: {@link #runsSince} reads the runs after it. */
  public long mark() {
    try {
      return Files.exists(dir.resolve(LOG)) ? Files.size(dir.resolve(LOG)) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The runs logged after {@code mark}; the PID is that of the real program, which the stand-in became. */
  public List<QemuProcesses.Spawn> runsSince(long mark) {
    List<QemuProcesses.Spawn> runs = new ArrayList<>();
    if (!Files.exists(dir.resolve(LOG))) {
      return runs;
    }
    try (RandomAccessFile log = new RandomAccessFile(dir.resolve(LOG).toFile(), "r")) {
      byte[] added = new byte[Math.toIntExact(log.length() - mark)];
      log.seek(mark);
      log.readFully(added);
      for (String line : new String(added, StandardCharsets.UTF_8).split("\n")) {
        int space = line.indexOf(' ');
        if (space > 0 && line.substring(0, space).chars().allMatch(Character::isDigit)) {
          runs.add(new QemuProcesses.Spawn(Long.parseLong(line.substring(0, space)), line.substring(space + 1)));
        }
      }
      return runs;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
