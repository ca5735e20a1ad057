package io.cvmmanager.testing;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Which real QEMU programs this JVM started while a window was open. Two sources: {@link QemuProcesses} sampled every
 * {@value #SAMPLE_MILLIS} ms on a thread of its own while any window is open, and once more as a window closes (a
 * QEMU that lives longer than one interval, or is still there at the end, is seen however it was started); and the
 * {@link QemuTripwire} when the build set one up (every run through PATH, however short). What both can miss: a
 * program run by its absolute path (or with a PATH of its own) that starts and is reaped between two samples.
 *
 * <p>Windows nest (a test class run inside a test class, as the extension's own test does): a QEMU belongs to the
 * innermost window open when it was first seen, which claims it as it closes. Test classes run one at a time.
 */
public final class QemuSpawnWatch {
  static final long SAMPLE_MILLIS = 20;

  private static final Optional<QemuTripwire> TRIPWIRE = QemuTripwire.install();
  /** Every QEMU seen, by PID, in the order seen; a window's are those seen after it opened. */
  private static final Map<Long, QemuProcesses.Spawn> SEEN = new LinkedHashMap<>();
  private static final Set<Long> CLAIMED = new HashSet<>();
  private static int openWindows;
  private static long samples;
  /** Samples every {@value #SAMPLE_MILLIS} ms while a window is open; one daemon thread, idle otherwise. */
  private static final ScheduledExecutorService SAMPLER = Executors.newSingleThreadScheduledExecutor(task -> {
    Thread thread = new Thread(task, "qemu-spawn-sampler");
    thread.setDaemon(true);
    return thread;
  });
  private static ScheduledFuture<?> sampling;

  private QemuSpawnWatch() {}

  /** An open window: how many QEMUs had been seen and where the tripwire's log ended when it opened. */
  public record Window(int seenBefore, long tripwireMark) {}

  public static synchronized Window open() {
    openWindows++;
    if (sampling == null) {
      sampling = SAMPLER.scheduleWithFixedDelay(QemuSpawnWatch::sample, 0, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
    }
    return new Window(SEEN.size(), TRIPWIRE.map(QemuTripwire::mark).orElse(0L));
  }

  /** Whether a window is open now (a class not named *Test opens one only inside another, to claim its own). */
  public static synchronized boolean anyOpen() {
    return openWindows > 0;
  }

  /** Closes {@code window} and returns the QEMUs seen while it was open that no inner window claimed. */
  public static synchronized List<QemuProcesses.Spawn> close(Window window) {
    sample();
    TRIPWIRE.ifPresent(tripwire -> tripwire.runsSince(window.tripwireMark()).forEach(QemuSpawnWatch::seen));
    List<QemuProcesses.Spawn> spawned = new ArrayList<>(SEEN.values()).subList(window.seenBefore(), SEEN.size())
        .stream().filter(spawn -> !CLAIMED.contains(spawn.pid())).toList();
    spawned.forEach(spawn -> CLAIMED.add(spawn.pid()));
    if (--openWindows == 0) {
      sampling.cancel(false);
      sampling = null;
    }
    return spawned;
  }

  /** Whether the build put the tripwire on PATH (it does for surefire; a test run from an IDE has sampling only). */
  public static boolean tripwireSetUp() {
    return TRIPWIRE.isPresent();
  }

  /** Samples of /proc taken so far: a test waits for more to be sure one ran. */
  public static synchronized long samples() {
    return samples;
  }

  private static synchronized void sample() {
    QemuProcesses.now().forEach(QemuSpawnWatch::seen);
    samples++;
  }

  /**
   * Notes a QEMU once: a PID seen again (sampled while it runs, or by both sources) is the same run, kept in the
   * order first seen. A later sighting with a command line replaces one that had only the name (first sampled inside
   * its execve), so that a failure shows what ran.
   */
  private static synchronized void seen(QemuProcesses.Spawn spawn) {
    SEEN.merge(spawn.pid(), spawn,
        (first, again) -> first.hasCommandLine() || !again.hasCommandLine() ? first : again);
  }
}
