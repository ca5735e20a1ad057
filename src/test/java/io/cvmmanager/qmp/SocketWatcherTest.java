package io.cvmmanager.qmp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
      Thread poller = poller(before);
      suspend(poller);
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

  /** Forgetting a socket that will not come (its QEMU exited) does not wait for the watch thread either. */
  @Test
  @SuppressWarnings({"deprecation", "removal"})
  void forgettingASocketDoesNotWaitForTheWatchThreadOnTheEventLoop() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    Vertx vertx = Vertx.vertx();
    try (SocketWatcher watcher = new SocketWatcher()) {
      Thread poller = poller(before);
      Context context = vertx.getOrCreateContext();
      Path socket = dir.resolve("qmp.sock");
      long watchesBefore = inotifyWatches();
      context.runOnContext(v -> watcher.appearance(context, socket));
      // appearance() registers on a worker: the waiter exists once the kernel has the directory's watch.
      await().atMost(Duration.ofSeconds(10)).until(() -> inotifyWatches() == watchesBefore + 1);
      suspend(poller);
      Promise<Void> forgotten = Promise.promise();
      try {
        context.runOnContext(v -> {
          watcher.forget(socket);
          forgotten.complete();
        });
        forgotten.future().await(2, TimeUnit.SECONDS);
      } finally {
        poller.resume();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> inotifyWatches() == watchesBefore);
    } finally {
      vertx.close().await();
    }
  }

  /** The JDK's watch thread that {@code new SocketWatcher()} started. */
  private static Thread poller(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> !before.contains(thread) && thread.getName().equals("FileSystemWatchService"))
        .collect(Collectors.reducing((a, b) -> a)).orElseThrow();
  }

  /** Holds the watch thread, as a busy host holds it. */
  @SuppressWarnings({"deprecation", "removal"})
  private static void suspend(Thread poller) {
    try {
      poller.suspend();
    } catch (UnsupportedOperationException e) {
      Assumptions.abort("this JDK cannot suspend a thread (JDK 20+), so the watch thread cannot be held: " + e);
    }
  }

  /** The inotify watches this JVM holds, as the kernel lists them in /proc/self/fdinfo. */
  private static long inotifyWatches() throws IOException {
    long watches = 0;
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals("anon_inode:inotify")) {
            watches += Files.readAllLines(Path.of("/proc/self/fdinfo").resolve(fd.getFileName().toString())).stream()
                .filter(line -> line.startsWith("inotify wd:")).count();
          }
        } catch (IOException closed) {
          // An fd closed while listed.
        }
      }
    }
    return watches;
  }
}
