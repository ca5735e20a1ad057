package io.cvmmanager.testing;

import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How long Linux kept each Vert.x event-loop thread waiting for a CPU (the run-queue wait of
 * {@code /proc/thread-self/schedstat}), sampled every few milliseconds. Vert.x's blocked-thread checker measures
 * wall time: on a 2-core machine shared with builds and QEMUs a loop that runs for 5 ms can be kept off the CPU for
 * 60 ms. The JVM's own pauses (a safepoint waits for every thread, starved ones too) stop a loop without a
 * run-queue wait: they are estimated from the sampler's lateness less its own run-queue wait. Subtracting both from a
 * warning's duration leaves the time the loop was held by the code it ran (on the CPU or in a blocking call), which
 * is what a 50 ms bound is about.
 */
public final class LoopRunQueueWait implements AutoCloseable {
  private static final long SAMPLE_MILLIS = 5;

  /** Thread name to its samples: {wall-clock millis, run-queue wait in ns so far, JVM pauses in ms so far}. */
  private final Map<String, List<long[]>> samples = new ConcurrentHashMap<>();
  private final Map<String, Path> schedstat;
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(task -> {
    Thread thread = new Thread(task, "run-queue-wait-sampler");
    thread.setDaemon(true);
    return thread;
  });

  private long lastSample = System.currentTimeMillis();
  private long samplerWaited;
  private long pausedMillis;

  private LoopRunQueueWait(Map<String, Path> schedstat) {
    this.schedstat = schedstat;
    schedstat.keySet().forEach(name -> samples.put(name, new ArrayList<>()));
    sampler.scheduleAtFixedRate(this::sample, 0, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Starts sampling every event loop of {@code vertx}, each found by asking it, on its thread, which task it is. */
  public static LoopRunQueueWait start(Vertx vertx) throws Exception {
    Map<String, Path> found = new ConcurrentHashMap<>();
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      loop.submit(() -> found.put(Thread.currentThread().getName(),
          Path.of("/proc/self").resolve(thisTask()).resolve("schedstat"))).get();
    }
    return new LoopRunQueueWait(Map.copyOf(found));
  }

  /** "task/TID" of the calling thread. */
  private static Path thisTask() {
    try {
      Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      return link.subpath(1, link.getNameCount());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void sample() {
    long now = System.currentTimeMillis();
    long ownWait = runQueueWaitNanos(Path.of("/proc/thread-self/schedstat"));
    // Late beyond its own run-queue wait: the whole JVM stood still (a safepoint, a GC pause).
    pausedMillis += Math.max(0, now - lastSample - SAMPLE_MILLIS
        - TimeUnit.NANOSECONDS.toMillis(ownWait - samplerWaited));
    lastSample = now;
    samplerWaited = ownWait;
    schedstat.forEach((name, file) -> {
      List<long[]> list = samples.get(name);
      synchronized (list) {
        list.add(new long[] {now, runQueueWaitNanos(file), pausedMillis});
      }
    });
  }

  private static long runQueueWaitNanos(Path schedstat) {
    try {
      return Long.parseLong(Files.readString(schedstat).trim().split(" ")[1]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Milliseconds {@code thread} waited for a CPU or stood still with the whole JVM, from the last sample at or before {@code fromMillis} to the first at
   * or after {@code toMillis} (the sampler, starved too, may be late): 0 for a thread not sampled. What the window
   * takes in beyond the warning's own time is run-queue wait next to it, which is the busy machine, not the loop.
   */
  public long waitedMillis(String thread, long fromMillis, long toMillis) {
    List<long[]> list = samples.get(thread);
    if (list == null) {
      return 0;
    }
    synchronized (list) {
      long[] first = list.stream().filter(s -> s[0] <= fromMillis).reduce((a, b) -> b).orElse(null);
      long[] last = list.stream().filter(s -> s[0] >= toMillis).findFirst().orElse(null);
      if (first == null || last == null) {
        return 0;
      }
      return TimeUnit.NANOSECONDS.toMillis(last[1] - first[1]) + last[2] - first[2];
    }
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
