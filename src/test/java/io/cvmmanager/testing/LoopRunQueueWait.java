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
 * 60 ms. Subtracting this wait from a warning's duration leaves the time the loop was held by the code it ran (on
 * the CPU or in a blocking call), which is what a 50 ms bound is about.
 */
public final class LoopRunQueueWait implements AutoCloseable {
  private static final long SAMPLE_MILLIS = 5;

  /** Thread name to its samples: {wall-clock millis, run-queue wait in ns so far}. */
  private final Map<String, List<long[]>> samples = new ConcurrentHashMap<>();
  private final Map<String, Path> schedstat;
  private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(task -> {
    Thread thread = new Thread(task, "run-queue-wait-sampler");
    thread.setDaemon(true);
    return thread;
  });

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
    schedstat.forEach((name, file) -> {
      try {
        long waited = Long.parseLong(Files.readString(file).trim().split(" ")[1]);
        List<long[]> list = samples.get(name);
        synchronized (list) {
          list.add(new long[] {now, waited});
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /**
   * Milliseconds {@code thread} waited for a CPU between the first sample at or after {@code fromMillis} and the
   * last at or before {@code toMillis}: never more than it waited in that window. 0 for a thread not sampled.
   */
  public long waitedMillis(String thread, long fromMillis, long toMillis) {
    List<long[]> list = samples.get(thread);
    if (list == null) {
      return 0;
    }
    synchronized (list) {
      long[] first = list.stream().filter(s -> s[0] >= fromMillis).findFirst().orElse(null);
      long[] last = list.stream().filter(s -> s[0] <= toMillis).reduce((a, b) -> b).orElse(null);
      if (first == null || last == null || last[0] <= first[0]) {
        return 0;
      }
      return TimeUnit.NANOSECONDS.toMillis(last[1] - first[1]);
    }
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
