package io.cvmmanager.process;

import java.util.Optional;

/**
 * How a process ended: an exit code or a signal. NuProcess reports a bare number for both (the code, or the signal
 * of a killed child), so the distinction is read from the kernel while the process is a zombie:
 * {@code /proc/<pid>/stat} field 52 is its wait status (Linux ≥ 3.5).
 */
public record ExitStatus(int code, int signal) {
  public static ExitStatus ofWaitStatus(int status) {
    int signal = status & 0x7f;
    return signal != 0 ? new ExitStatus(0, signal) : new ExitStatus((status >> 8) & 0xff, 0);
  }

  /** The wait status of a zombie, from the text of its /proc/<pid>/stat; empty if it is not (yet) a zombie. */
  public static Optional<ExitStatus> fromZombieStat(String stat) {
    String[] fields = StatFields.of(stat);
    // fields[0] is field 3 (state); field 52 (exit_code) is fields[49].
    if (fields.length < 50 || !fields[0].equals("Z")) {
      return Optional.empty();
    }
    return Optional.of(ofWaitStatus(Integer.parseInt(fields[49])));
  }

  public boolean killed() {
    return signal != 0;
  }

  @Override
  public String toString() {
    return killed() ? "killed by signal " + signal + " (" + signalName(signal) + ")" : "exit code " + code;
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 1 -> "SIGHUP";
      case 2 -> "SIGINT";
      case 6 -> "SIGABRT";
      case 9 -> "SIGKILL";
      case 11 -> "SIGSEGV";
      case 15 -> "SIGTERM";
      default -> "signal " + signal;
    };
  }
}
