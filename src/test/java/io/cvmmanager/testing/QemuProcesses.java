package io.cvmmanager.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The real QEMU programs ({@code qemu-system-*}, {@code qemu-img}) among this JVM's descendants, as /proc shows them
 * now: zombies count (an exited child not yet reaped still has its name), and a process counts by its name
 * ({@code comm}, which QEMU's {@code -name ...,process=} may change) or by the file it runs ({@code exe}).
 */
public final class QemuProcesses {
  private QemuProcesses() {}

  /**
   * One QEMU process: its PID and its command line, or only its name when /proc shows none: a zombie has none left,
   * and a process caught inside execve has its new name before its new arguments.
   */
  public record Spawn(long pid, String command, boolean hasCommandLine) {
    public Spawn(long pid, String command) {
      this(pid, command, true);
    }

    @Override
    public String toString() {
      return command + " (pid " + pid + ")";
    }
  }

  /** Whether a program name (a {@code comm}, or the file name of an {@code exe}) is real QEMU's. */
  public static boolean isQemu(String name) {
    // comm is cut at 15 bytes: qemu-system-x86_64 shows as qemu-system-x86.
    return name.startsWith("qemu-system-") || name.equals("qemu-img");
  }

  /** The QEMU processes that descend from this JVM now. */
  public static List<Spawn> now() {
    return ProcessHandle.current().descendants().map(QemuProcesses::asQemu).flatMap(Optional::stream).toList();
  }

  private static Optional<Spawn> asQemu(ProcessHandle process) {
    String comm = read(process.pid(), "comm").strip();
    String exe = process.info().command().map(command -> Path.of(command).getFileName().toString()).orElse("");
    if (!isQemu(comm) && !isQemu(exe)) {
      return Optional.empty();
    }
    String commandLine = read(process.pid(), "cmdline").replace('\0', ' ').strip();
    return Optional.of(commandLine.isEmpty() ? new Spawn(process.pid(), comm, false)
        : new Spawn(process.pid(), commandLine));
  }

  /** A /proc file of {@code pid}, or "" once the process is gone. */
  private static String read(long pid, String file) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), file)), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
