package io.cvmmanager.process;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;

/**
 * A QEMU started by an earlier manager and adopted by this one. It is not our child: no exit notice reaches us,
 * and its zombie (if any) is someone else's to reap. Its end is therefore looked for in /proc: every second as a
 * safety net (a VM whose QMP connection could not be re-made has no other witness), and every few milliseconds
 * while its end is expected (after QMP EOF, a quit or a signal). A zombie counts as ended. A PID whose start time
 * changed names another process now: ended too, and never signalled.
 */
public final class AdoptedProcess implements RunningProcess {
  private static final long FAST_POLL_MS = 5;
  private static final long SLOW_POLL_MS = 1000;

  private final Vertx vertx;
  private final ProcessSnapshot identity;
  private final Promise<Integer> exit = Promise.promise();
  private long fastUntilNanos;
  private long timer = -1;
  private boolean stopped;
  /** A read of /proc is under way: it schedules the next check itself, at the pace then in force. */
  private boolean reading;

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
    fastUntilNanos = Math.max(fastUntilNanos, System.nanoTime() + window.toNanos());
    schedule(0);
  }

  /** Starts the slow safety-net polling; {@link #stopWatching} ends it (the VM left to a next manager). */
  public void watch() {
    schedule(SLOW_POLL_MS);
  }

  public void stopWatching() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** One pending check at a time, at the earlier of the one planned and {@code delayMs} from now. */
  private void schedule(long delayMs) {
    if (stopped || exited() || reading) {
      return;
    }
    if (timer >= 0) {
      if (delayMs >= FAST_POLL_MS) {
        return;
      }
      vertx.cancelTimer(timer);
    }
    timer = vertx.setTimer(Math.max(1, delayMs), t -> {
      timer = -1;
      poll();
    });
  }

  private void poll() {
    reading = true;
    ProcessSnapshot.readStat(vertx, identity.pid()).onComplete(ar -> {
      reading = false;
      Optional<ProcessSnapshot> now = ar.succeeded() ? ar.result() : Optional.empty();
      boolean gone = now.isEmpty() || now.get().isZombie() || now.get().startTime() != identity.startTime();
      if (gone) {
        exit.tryComplete(now.filter(p -> p.startTime() == identity.startTime()).flatMap(ProcessSnapshot::exit)
            .map(AdoptedProcess::code).orElse(ChildProcess.NOT_STARTED));
      } else {
        schedule(System.nanoTime() < fastUntilNanos ? FAST_POLL_MS : SLOW_POLL_MS);
      }
    });
  }

  /** NuProcess's convention, kept for both kinds: the exit code, or the signal that killed it. */
  private static int code(ExitStatus status) {
    return status.killed() ? status.signal() : status.code();
  }
}
