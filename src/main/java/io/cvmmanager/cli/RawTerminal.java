package io.cvmmanager.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The controlling terminal with line buffering and echo off, so that one key press (top's {@code q}) is read at
 * once, without a terminal library: {@code stty} on {@code /dev/tty}, its settings before restored on {@link #close}
 * and, should the JVM end otherwise (a signal), by a shutdown hook.
 */
final class RawTerminal implements AutoCloseable {
  private static final File TTY = new File("/dev/tty");

  private final String saved;
  private final Thread restoreAtExit;

  private RawTerminal(String saved) {
    this.saved = saved;
    this.restoreAtExit = new Thread(this::restore, "cvmctl-restore-terminal");
  }

  static RawTerminal open() throws IOException {
    RawTerminal terminal = new RawTerminal(stty("-g").strip());
    Runtime.getRuntime().addShutdownHook(terminal.restoreAtExit);
    stty("-icanon", "-echo", "min", "1");
    return terminal;
  }

  @Override
  public void close() {
    restore();
    try {
      Runtime.getRuntime().removeShutdownHook(restoreAtExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs (or ran) anyway.
    }
  }

  private void restore() {
    try {
      stty(saved);
    } catch (IOException e) {
      System.err.println("warning: could not restore the terminal (run `stty sane`): " + e.getMessage());
    }
  }

  private static String stty(String... args) throws IOException {
    Process stty = new ProcessBuilder(concat(args)).redirectInput(TTY)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      String out = new String(stty.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!stty.waitFor(5, TimeUnit.SECONDS) || stty.exitValue() != 0) {
        throw new IOException("stty " + String.join(" ", args) + " failed");
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static List<String> concat(String... args) {
    return Stream.concat(Stream.of("stty"), Arrays.stream(args)).toList();
  }
}
