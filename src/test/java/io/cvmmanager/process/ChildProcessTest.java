package io.cvmmanager.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildProcessTest {
  private static final int STARTS = 20;

  /**
   * The fork and exec happen off the event loop: start() on the loop only hands them over. Timed as the fastest of
   * 20 starts, so that a busy machine (which only slows a call down) cannot make it pass or fail; a fork and exec
   * through the JDK's spawn helper take a millisecond or more even on an idle host.
   */
  @Test
  void startingAProcessLeavesTheEventLoopAtOnce() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Context context = vertx.getOrCreateContext();
      List<Future<ChildProcess>> started = new ArrayList<>();
      long[] fastest = {Long.MAX_VALUE};
      for (int i = 0; i < STARTS; i++) {
        Future.<Void>future(onLoop -> context.runOnContext(v -> {
          long before = System.nanoTime();
          started.add(ChildProcess.start(context, List.of("/bin/true"), null, line -> { }, line -> { }));
          fastest[0] = Math.min(fastest[0], System.nanoTime() - before);
          onLoop.complete();
        })).await();
      }
      for (Future<ChildProcess> process : started) {
        assertEquals(0, process.await().exit().await(10, TimeUnit.SECONDS));
      }
      assertTrue(fastest[0] < TimeUnit.MICROSECONDS.toNanos(300),
          "the fastest start held the event loop " + fastest[0] / 1000 + " µs");
    } finally {
      vertx.close().await();
    }
  }

  /** é written as two separate writes (two pipe reads): it reaches the handler whole. */
  @Test
  void aCharacterSplitAcrossTwoWritesArrivesWhole() throws Exception {
    List<String> stdout = runToEnd("printf '\\303'; sleep 0.2; printf '\\251t\\n'");
    assertEquals(List.of("ét"), stdout);
  }

  /** A program that never writes a newline is read in pieces of MAX_LINE_BYTES, not held in memory to its end. */
  @Test
  void aLineOverTheBoundArrivesInPieces() throws Exception {
    int length = 2 * ChildProcess.MAX_LINE_BYTES + 7;
    List<String> stdout = runToEnd("head -c " + length + " /dev/zero | tr '\\0' x");
    assertEquals(List.of(ChildProcess.MAX_LINE_BYTES, ChildProcess.MAX_LINE_BYTES, 7),
        stdout.stream().map(String::length).toList());
  }

  private static List<String> runToEnd(String script) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Context context = vertx.getOrCreateContext();
      List<String> stdout = new ArrayList<>();
      ChildProcess process = ChildProcess.start(context, List.of("/bin/sh", "-c", script), null, stdout::add,
          line -> { }).await();
      assertEquals(0, process.exit().await(10, TimeUnit.SECONDS));
      return stdout;
    } finally {
      vertx.close().await();
    }
  }
}
