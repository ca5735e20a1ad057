package io.cvmmanager.process;

import com.zaxxer.nuprocess.NuAbstractProcessHandler;
import com.zaxxer.nuprocess.NuProcess;
import com.zaxxer.nuprocess.NuProcessBuilder;
import io.cvmmanager.text.LineSplitter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * A child process run through NuProcess: no thread per process, output delivered line by line, exit as a future.
 * Every callback is moved onto the Vert.x context that started the process, so its owner (a verticle) sees them
 * in order with its other events and never needs a lock. NuProcess reaps the child (no zombie).
 */
public final class ChildProcess implements RunningProcess {
  /** The exit code NuProcess reports when the program could not be started at all, or its status was lost. */
  public static final int NOT_STARTED = Integer.MIN_VALUE;
  /** QEMU's and the tools' lines are short; a program that writes without newlines is read in pieces of this. */
  static final int MAX_LINE_BYTES = 64 * 1024;

  private final NuProcess process;
  /**
   * Bound to the owner's context (derived from a future of that context): a {@code Future.timeout} on a future of
   * no context fires, and runs what follows it, on Netty's global thread instead of the owner's event loop.
   */
  private final Future<Integer> exit;

  private ChildProcess(NuProcess process, Future<Integer> exit) {
    this.process = process;
    this.exit = exit;
  }

  /**
   * Starts {@code command}. {@code stdout} and {@code stderr} get each complete line (without its newline; a last
   * unterminated line too; a line over {@link #MAX_LINE_BYTES} in pieces, see {@link LineSplitter}). The returned
   * future fails if the program cannot be started.
   */
  public static Future<ChildProcess> start(Context context, List<String> command, Path workingDir,
      Handler<String> stdout, Handler<String> stderr) {
    Promise<Integer> exit = Promise.promise();
    // NuProcess hands over whatever the pipe had, not whole lines.
    LineSplitter out = new LineSplitter(MAX_LINE_BYTES, line -> deliver(context, v -> stdout.handle(line)));
    LineSplitter err = new LineSplitter(MAX_LINE_BYTES, line -> deliver(context, v -> stderr.handle(line)));
    NuProcessBuilder builder = new NuProcessBuilder(command);
    if (workingDir != null) {
      builder.setCwd(workingDir);
    }
    builder.setProcessListener(new NuAbstractProcessHandler() {
      @Override
      public void onStdout(ByteBuffer buffer, boolean closed) {
        out.accept(buffer);
        if (closed) {
          out.end();
        }
      }

      @Override
      public void onStderr(ByteBuffer buffer, boolean closed) {
        err.accept(buffer);
        if (closed) {
          err.end();
        }
      }

      @Override
      public void onExit(int code) {
        out.end();
        err.end();
        deliver(context, v -> exit.tryComplete(code));
      }
    });
    // NuProcess forks and execs synchronously: milliseconds, and over 50 on a busy host, so not on an event loop.
    Future<NuProcess> started = context.executeBlocking(builder::start, false);
    Future<Integer> exited = started.compose(process -> exit.future());
    return started.compose(process -> {
      if (process == null || !process.isRunning() && process.getPID() == 0) {
        return Future.failedFuture(new IllegalStateException("cannot start " + command.get(0)));
      }
      return Future.succeededFuture(new ChildProcess(process, exited));
    });
  }

  /**
   * Onto the owner's context. A QEMU left running for the next manager may end after this manager's Vert.x is
   * closed: no one waits for its news then, and the closed event loop's refusal is not an error.
   */
  private static void deliver(Context context, Handler<Void> action) {
    try {
      context.runOnContext(action);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // The owner is gone.
    }
  }

  /** Runs a command to its end and collects its output (for short tools: qemu-img, igvmmeasure). */
  public static Future<Result> run(Context context, List<String> command) {
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    return start(context, command, null, l -> out.append(l).append('\n'), l -> err.append(l).append('\n'))
        .compose(ChildProcess::exit)
        .map(code -> new Result(code, out.toString(), err.toString()));
  }

  /** The outcome of {@link #run}. */
  public record Result(int exitCode, String stdout, String stderr) {
    public boolean succeeded() {
      return exitCode == 0;
    }
  }

  @Override
  public int pid() {
    return process.getPID();
  }

  /** Completes with the exit code (or the signal number: NuProcess reports WTERMSIG for a killed child). */
  @Override
  public Future<Integer> exit() {
    return exit;
  }

  @Override
  public boolean exited() {
    return exit.isComplete();
  }

  /** SIGTERM ({@code force} false) or SIGKILL. */
  @Override
  public void signal(boolean force) {
    process.destroy(force);
  }
}
