package io.cvmmanager.cli;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * How a command that runs until stopped ({@code logs -f}, {@code events}) is stopped: Ctrl-C in a terminal, the
 * caller's {@link #request} when cvmctl runs inside another program (tests). It also tells that caller when the
 * command's stream is open, so that what it then does on the manager is seen.
 */
public final class Interrupt {
  private static final Signal SIGINT = new Signal("INT");

  private final CompletableFuture<Void> requested = new CompletableFuture<>();
  private final CompletableFuture<Void> opened = new CompletableFuture<>();
  private final Consumer<Interrupt> arm;

  private Interrupt(Consumer<Interrupt> arm) {
    this.arm = arm;
  }

  /**
   * Ctrl-C (SIGINT), caught only while a stream runs: other commands keep the default (the JVM exits with 130), and
   * so does a second Ctrl-C should closing the stream hang.
   */
  static Interrupt onSigint() {
    return new Interrupt(self -> {
      try {
        Signal.handle(SIGINT, signal -> {
          Signal.handle(SIGINT, SignalHandler.SIG_DFL);
          self.request();
        });
      } catch (IllegalArgumentException reservedByTheJvm) {
        // SIGINT is the VM's: Ctrl-C keeps its default and ends the JVM, and with it the connection and the stream.
      }
    });
  }

  /** Stopped only by {@link #request}. */
  public static Interrupt byCaller() {
    return new Interrupt(self -> {});
  }

  /** Stops the command's stream: its connection is closed, which ends it on the manager, and the command exits 0. */
  public void request() {
    requested.complete(null);
  }

  /** Completes once the command's stream is open: the manager answered with its headers. */
  public CompletionStage<Void> opened() {
    return opened;
  }

  /** Called by the command as its stream starts: from now on an interrupt stops the stream, not the JVM. */
  CompletionStage<Void> arm() {
    arm.accept(this);
    return requested;
  }

  void streamOpened() {
    opened.complete(null);
  }
}
