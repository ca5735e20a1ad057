package io.cvmmanager.process;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;

/**
 * A QEMU started by an earlier manager and adopted by this one. It is not our child: no exit notice reaches us,
 * and its zombie (if any) is someone else's to reap. Its end is therefore looked for in /proc — when it is expected
 * (after QMP EOF, a quit or a signal) every few milliseconds for a while, and otherwise not at all, since the end
 * of its QMP connection tells of any death first. A zombie counts as ended. A PID whose start time changed names
 * another process now: ended too, and never signalled.
 */
public final class AdoptedProcess implements RunningProcess {
  private static final long POLL_MS = 5;

  private final Vertx vertx;
  private final ProcessSnapshot identity;
  private final Promise<Integer> exit = Promise.promise();
  private long pollUntilNanos;
  private boolean polling;

  public AdoptedProcess(Vertx vertx, ProcessSnapshot identity) {
    this.vertx = vertx;
    this.identity = identity;
  }

  @Override
  public int pid() {
    return (int) identity.pid();
  }

  @Override
  public Future<Integer> exit() {
    return exit.future();
  }

  @Override
  public boolean exited() {
    return exit.future().isComplete();
  }

  /**
   * Only after /proc shows the PID still has the recorded start time, and then through ProcessHandle, which checks
   * the start time it saw against the process it signals: a reused PID is never signalled.
   */
  @Override
  public void signal(boolean force) {
    ProcessSnapshot.readStat(vertx, identity.pid()).onSuccess(now -> {
      if (now.isPresent() && now.get().startTime() == identity.startTime()) {
        ProcessHandle.of(identity.pid()).ifPresent(handle -> {
          if (force) {
            handle.destroyForcibly();
          } else {
            handle.destroy();
          }
        });
      }
    });
    expectExit(Duration.ofSeconds(5));
  }

  @Override
  public void expectExit(Duration window) {
    pollUntilNanos = Math.max(pollUntilNanos, System.nanoTime() + window.toNanos());
    if (!polling && !exited()) {
      polling = true;
      poll();
    }
  }

  private void poll() {
    ProcessSnapshot.readStat(vertx, identity.pid()).onComplete(ar -> {
      Optional<ProcessSnapshot> now = ar.succeeded() ? ar.result() : Optional.empty();
      boolean gone = now.isEmpty() || now.get().isZombie() || now.get().startTime() != identity.startTime();
      if (gone) {
        polling = false;
        exit.tryComplete(now.flatMap(ProcessSnapshot::exit).map(AdoptedProcess::code)
            .orElse(ChildProcess.NOT_STARTED));
      } else if (System.nanoTime() < pollUntilNanos) {
        vertx.setTimer(POLL_MS, t -> poll());
      } else {
        polling = false;
      }
    });
  }

  /** NuProcess's convention, kept for both kinds: the exit code, or the signal that killed it. */
  private static int code(ExitStatus status) {
    return status.killed() ? status.signal() : status.code();
  }
}
