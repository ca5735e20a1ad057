package io.cvmmanager.process;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the kernel says of a process at one moment, from {@code /proc/<pid>/stat} and {@code /proc/<pid>/cmdline}:
 * enough to tell whether a PID still names the process we started (same start time, same command line — a PID can
 * be reused by any other process once the first has been reaped) and whether it is alive or a zombie.
 *
 * @param startTime field 22 of stat: clock ticks from boot to the process's start; with the PID, its identity
 * @param state field 3 of stat: R, S, D, Z, T, ...
 * @param exit the wait status while it is a zombie
 */
public record ProcessSnapshot(long pid, char state, long startTime, List<String> commandLine,
    Optional<ExitStatus> exit) {

  public ProcessSnapshot {
    commandLine = List.copyOf(commandLine);
  }

  public boolean isZombie() {
    return state == 'Z';
  }

  /** The same process as one recorded before: PID, start time and command line all equal. */
  public boolean isSameProcess(long recordedPid, long recordedStartTime, List<String> recordedCommand) {
    return pid == recordedPid && startTime == recordedStartTime && commandLine.equals(recordedCommand);
  }

  /** Reads a process's snapshot without blocking; empty when there is no such process (any more). */
  public static Future<Optional<ProcessSnapshot>> read(Vertx vertx, long pid) {
    if (pid <= 0) {
      return Future.succeededFuture(Optional.empty());
    }
    String dir = "/proc/" + pid;
    return vertx.fileSystem().readFile(dir + "/stat")
        .compose(stat -> vertx.fileSystem().readFile(dir + "/cmdline")
            .map(cmdline -> parse(pid, stat.toString(), cmdline)))
        .map(Optional::of)
        .otherwise(Optional.empty());
  }

  /** Only stat (state, start time, exit status): the cheap read for polling; the command line is left empty. */
  public static Future<Optional<ProcessSnapshot>> readStat(Vertx vertx, long pid) {
    return vertx.fileSystem().readFile("/proc/" + pid + "/stat")
        .map(stat -> Optional.of(parse(pid, stat.toString(), Buffer.buffer())))
        .otherwise(Optional.empty());
  }

  /** Parses stat's text and cmdline's NUL-separated bytes. Package-visible for tests. */
  static ProcessSnapshot parse(long pid, String stat, Buffer cmdline) {
    String[] fields = StatFields.of(stat);
    char state = fields[0].charAt(0);
    long startTime = Long.parseLong(fields[19]);
    return new ProcessSnapshot(pid, state, startTime, arguments(cmdline), ExitStatus.fromZombieStat(stat));
  }

  private static List<String> arguments(Buffer cmdline) {
    List<String> arguments = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < cmdline.length(); i++) {
      if (cmdline.getByte(i) == 0) {
        arguments.add(cmdline.getString(start, i, "UTF-8"));
        start = i + 1;
      }
    }
    if (start < cmdline.length()) {
      arguments.add(cmdline.getString(start, cmdline.length(), "UTF-8"));
    }
    return arguments;
  }
}
