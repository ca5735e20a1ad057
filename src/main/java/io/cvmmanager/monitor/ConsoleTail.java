package io.cvmmanager.monitor;

import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.text.LineSplitter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The last lines of a VM's console: console.log.1 then console.log (the last MiB of each) as one byte stream, split
 * as {@link MonitorVerticle} splits what it streams. For StreamLogs's tail, on the VM's own node.
 */
public final class ConsoleTail {
  /** The most bytes of console log read for a tail: enough for thousands of lines. */
  private static final int TAIL_BYTES = 1 << 20;

  private ConsoleTail() {}

  /** The last {@code count} lines of VM {@code id}'s console (none when it has no log yet). */
  public static Future<List<String>> lines(Vertx vertx, Path stateDir, String id, int count) {
    if (count <= 0) {
      return Future.succeededFuture(List.of());
    }
    String current = VmPaths.of(stateDir, id).consoleLog().toString();
    return readQuietly(vertx, current + ".1").compose(older -> readQuietly(vertx, current).map(newer -> {
      Deque<String> last = new ArrayDeque<>();
      LineSplitter lines = new LineSplitter(MonitorVerticle.MAX_LINE_BYTES, line -> {
        if (last.size() == count) {
          last.removeFirst();
        }
        last.addLast(line);
      });
      lines.accept(older.getBytes());
      lines.accept(newer.getBytes());
      lines.end();
      return List.copyOf(last);
    }));
  }

  private static Future<Buffer> readQuietly(Vertx vertx, String file) {
    return vertx.fileSystem().props(file)
        .compose(props -> vertx.fileSystem().open(file, new OpenOptions().setRead(true).setWrite(false)
                .setCreate(false))
            .compose(f -> {
              long length = Math.min(props.size(), TAIL_BYTES);
              return f.read(Buffer.buffer((int) length), 0, props.size() - length, (int) length)
                  .eventually(f::close);
            }))
        .otherwise(Buffer.buffer());
  }
}
