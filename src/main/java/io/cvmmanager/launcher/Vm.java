package io.cvmmanager.launcher;

import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.qemu.Tee;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.qmp.QmpClient;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * One VM as the launcher tracks it. Mutable, and touched only on the launcher's event loop (the single writer of VM
 * state), so it needs no synchronisation; everything that leaves the launcher is a {@link VmView}.
 */
final class Vm {
  private static final int STDERR_LINES_KEPT = 20;

  final String id;
  final VmPaths paths;
  final Tee tee;
  final boolean diskMode;
  final boolean paused;
  final String kernelCmdline;
  final Instant created = Instant.now();
  final Optional<Instant> ttlDeadline;
  final Deque<String> stderrTail = new ArrayDeque<>();

  VmState state = VmState.CREATING;
  int port;
  List<String> command = List.of();
  ChildProcess process;
  QmpClient qmp;
  long ttlTimer = -1;
  /** Set when QEMU reported SHUTDOWN: its end is then orderly (STOPPED), not a crash or kill (FAILED). */
  String shutdownReason;
  boolean agentReady;
  /** SEV-SNP host data bound to this VM (base64 of 32 bytes), set at create; empty without it. */
  Optional<String> hostData = Optional.empty();

  Vm(String id, VmPaths paths, Tee tee, boolean diskMode, boolean paused, String kernelCmdline,
      Optional<Instant> ttlDeadline) {
    this.id = id;
    this.paths = paths;
    this.tee = tee;
    this.diskMode = diskMode;
    this.paused = paused;
    this.kernelCmdline = kernelCmdline;
    this.ttlDeadline = ttlDeadline;
  }

  void moveTo(VmState next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException("vm " + id + ": illegal transition " + state + " -> " + next);
    }
    state = next;
  }

  void keepStderr(String line) {
    if (stderrTail.size() == STDERR_LINES_KEPT) {
      stderrTail.removeFirst();
    }
    stderrTail.addLast(line);
  }

  String stderrSummary() {
    return stderrTail.isEmpty() ? "(no output)" : String.join(" | ", stderrTail);
  }

  boolean exited() {
    return process == null || process.exited();
  }

  VmView view() {
    return new VmView(id, state, port, process == null ? 0 : process.pid(), created, ttlDeadline,
        diskMode ? "disk" : "kernel", tee, paused, agentReady, kernelCmdline, hostData);
  }
}
