package io.cvmmanager.process;

import io.vertx.core.Future;
import java.time.Duration;

/** A VM's QEMU process as the launcher drives it: one it spawned ({@link ChildProcess}) or adopted ({@link AdoptedProcess}). */
public interface RunningProcess {
  int pid();

  /** Completes when the process has ended, with its exit code or signal ({@link ChildProcess#NOT_STARTED} if unknown). */
  Future<Integer> exit();

  boolean exited();

  /** SIGTERM ({@code force} false) or SIGKILL. */
  void signal(boolean force);

  /**
   * Says the process is expected to end within {@code window} (after a quit, a signal, or the end of its QMP
   * connection), so that an exit no one reports to us is looked for closely meanwhile.
   */
  default void expectExit(Duration window) {
  }
}
