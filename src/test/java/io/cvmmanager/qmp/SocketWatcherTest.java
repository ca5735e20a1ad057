package io.cvmmanager.qmp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketWatcherTest {
  @TempDir
  Path dir;

  /**
   * Watching for a socket does not wait for the JDK's watch thread on the event loop: with that thread held (as a
   * busy host holds it), appearance() on the loop returns at once, and the file is seen once the thread goes on.
   */
  @Test
  @SuppressWarnings({"deprecation", "removal"})
  void watchingForASocketDoesNotWaitForTheWatchThreadOnTheEventLoop() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    Vertx vertx = Vertx.vertx();
    try (SocketWatcher watcher = new SocketWatcher()) {
      Thread poller = Thread.getAllStackTraces().keySet().stream()
          .filter(thread -> !before.contains(thread) && thread.getName().equals("FileSystemWatchService"))
          .collect(Collectors.reducing((a, b) -> a)).orElseThrow();
      try {
        poller.suspend();
      } catch (UnsupportedOperationException e) {
        Assumptions.abort("this JDK cannot suspend a thread (JDK 20+), so the watch thread cannot be held: " + e);
      }
      Context context = vertx.getOrCreateContext();
      Path socket = dir.resolve("qmp.sock");
      Promise<Future<Void>> called = Promise.promise();
      try {
        context.runOnContext(v -> called.complete(watcher.appearance(context, socket)));
        Future<Void> appeared = called.future().await(2, TimeUnit.SECONDS);
        poller.resume();
        Files.createFile(socket);
        appeared.await(10, TimeUnit.SECONDS);
        assertTrue(appeared.succeeded());
      } finally {
        poller.resume();
      }
    } finally {
      vertx.close().await();
    }
  }
}
