package io.cvmmanager.qmp;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells when QEMU has created a VM's QMP socket, from inotify (the JDK's WatchService on Linux), so the launcher
 * connects as soon as the socket exists instead of polling: with a hundred QEMUs starting at once on two cores,
 * polling every few milliseconds burned more CPU than the QEMUs themselves. One thread serves all VMs.
 */
public final class SocketWatcher implements AutoCloseable {
  private final WatchService watch;
  private final Thread thread;
  private final Map<WatchKey, Waiter> waiters = new ConcurrentHashMap<>();

  private record Waiter(String fileName, Context context, Promise<Void> appeared) {}

  public SocketWatcher() throws IOException {
    watch = FileSystems.getDefault().newWatchService();
    thread = new Thread(this::run, "cvm-socket-watcher");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Completes on {@code context} once {@code file} exists (at once if it already does). Registering waits for the
   * JDK's watch thread, tens of milliseconds on a busy host, so it runs off the event loop; a {@link #forget} that
   * comes before it is done misses the waiter, which the caller's timeout forgets again.
   */
  public Future<Void> appearance(Context context, Path file) {
    Promise<Void> appeared = Promise.promise();
    return context.<Void>executeBlocking(() -> {
      WatchKey key = file.getParent().register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      waiters.put(key, new Waiter(file.getFileName().toString(), context, appeared));
      if (Files.exists(file)) {
        done(key);
      }
      return null;
    }, false).compose(registered -> appeared.future());
  }

  /**
   * Stops watching for a file that will not come (its QEMU exited). Cancelling waits for the JDK's watch thread as
   * registering does, so it too runs off the event loop.
   */
  public void forget(Path file) {
    waiters.forEach((key, waiter) -> {
      if (key.watchable().equals(file.getParent()) && waiter.fileName().equals(file.getFileName().toString())) {
        waiters.remove(key);
        waiter.context().executeBlocking(() -> {
          key.cancel();
          return null;
        }, false);
      }
    });
  }

  private void run() {
    try {
      while (true) {
        WatchKey key = watch.take();
        Waiter waiter = waiters.get(key);
        for (WatchEvent<?> event : key.pollEvents()) {
          boolean overflow = event.kind() == StandardWatchEventKinds.OVERFLOW;
          if (waiter != null && (overflow || waiter.fileName().equals(String.valueOf(event.context())))) {
            done(key);
          }
        }
        key.reset();
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed: the owner is stopping
    }
  }

  private void done(WatchKey key) {
    Waiter waiter = waiters.remove(key);
    key.cancel();
    if (waiter != null) {
      waiter.context().runOnContext(v -> waiter.appeared().tryComplete());
    }
  }

  @Override
  public void close() throws IOException {
    watch.close();
    thread.interrupt();
  }
}
