package io.cvmmanager.testing;

import io.vertx.core.Future;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Create/remove cycles against a manager process by concurrent clients, in rounds; between rounds, with no call in
 * flight, a {@link Sample} of the manager's JVM. What bench/Bench.java (2000 cycles) and it/SoakIT (300, in CI)
 * share; JDK and Vert.x only, so that the bench can use it without the test libraries.
 */
public final class Soak {
  /** Lines of {@code jcmd GC.heap_info} at one space of indent: a heap or generation, or Metaspace. */
  private static final Pattern HEAP_INFO_LINE = Pattern.compile("^ (\\S.*?)\\s+(?:total \\d+K, )?used (\\d+)K",
      Pattern.MULTILINE);

  private final long pid;
  private final int clients;
  private final Supplier<Future<?>> cycle;
  private final Queue<String> failures = new ConcurrentLinkedQueue<>();
  private int cyclesRun;

  /**
   * @param pid the manager's JVM
   * @param cycle one create → remove of a VM; a failed future counts as a failure
   */
  public Soak(long pid, int clients, Supplier<Future<?>> cycle) {
    this.pid = pid;
    this.clients = clients;
    this.cycle = cycle;
  }

  /** The manager's JVM at one point: open fds, threads, RSS, heap in use after a full GC, metaspace in use. */
  public record Sample(int cycles, int failures, long fds, int threads, long rssKib, long heapKib, long metaspaceKib) {
    public static String header() {
      return "| cycles | failures | fds | threads | RSS MiB | heap after GC MiB | metaspace MiB |\n"
          + "|---|---|---|---|---|---|---|";
    }

    public String row() {
      return String.format("| %d | %d | %d | %d | %.1f | %.1f | %.1f |", cycles, failures, fds, threads,
          rssKib / 1024.0, heapKib / 1024.0, metaspaceKib / 1024.0);
    }
  }

  /** {@code cycles} more cycles, {@link #clients} at a time, each client starting its next when its last ends. */
  public void run(int cycles) {
    AtomicInteger left = new AtomicInteger(cycles);
    List<Future<?>> loops = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      loops.add(loop(left));
    }
    Future.all(loops).await();
    cyclesRun += cycles;
  }

  private Future<?> loop(AtomicInteger left) {
    if (left.getAndDecrement() <= 0) {
      return Future.succeededFuture();
    }
    return cycle.get()
        .recover(e -> {
          failures.add(String.valueOf(e.getMessage()));
          return Future.succeededFuture();
        })
        .compose(v -> loop(left));
  }

  /** What failed so far, one message per failed cycle. */
  public List<String> failures() {
    return List.copyOf(failures);
  }

  /** A sample now; call between {@link #run}s, so that no VM is half made and no call holds a stream. */
  public Sample sample() throws Exception {
    String status = Files.readString(Path.of("/proc/" + pid + "/status"));
    jcmd("GC.run");
    String heapInfo = jcmd("GC.heap_info");
    long heap = 0;
    long metaspace = 0;
    Matcher line = HEAP_INFO_LINE.matcher(heapInfo);
    while (line.find()) {
      long used = Long.parseLong(line.group(2));
      if (line.group(1).equals("Metaspace")) {
        metaspace = used;
      } else {
        heap += used;
      }
    }
    try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      return new Sample(cyclesRun, failures.size(), fds.count(), (int) statusField(status, "Threads"),
          statusField(status, "VmRSS"), heap, metaspace);
    }
  }

  private static long statusField(String status, String name) {
    return status.lines().filter(l -> l.startsWith(name + ":")).findFirst()
        .map(l -> Long.parseLong(l.split("\\s+")[1]))
        .orElseThrow(() -> new IllegalStateException("no " + name + " in /proc status"));
  }

  /**
   * A diagnostic command to the manager's JVM, through the jcmd of that JVM's own JDK (an attach from another
   * JDK version may be refused).
   */
  public String jcmd(String... command) throws Exception {
    Path java = Path.of(ProcessHandle.of(pid).flatMap(p -> p.info().command())
        .orElseThrow(() -> new IllegalStateException("manager " + pid + " is gone")));
    List<String> args = new ArrayList<>(List.of(java.resolveSibling("jcmd").toString(), String.valueOf(pid)));
    args.addAll(List.of(command));
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(args + " failed: " + out);
    }
    return out;
  }
}
