package io.cvmmanager.testing;

import io.cvmmanager.config.PortRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Host port ranges for tests (MANAGER_QEMU_HOST_FWD_RANGE, ports a test takes on purpose), instead of fixed ones.
 * Each range is free when handed out and handed out once in this JVM; it lies in a band below the OS's ephemeral
 * range ({@code /proc/sys/net/ipv4/ip_local_port_range}), so no outgoing connection takes one of its ports meanwhile.
 *
 * <p>Other JVMs (surefire's and failsafe's, the managers an IT starts, other builds on the host) are kept off it by a
 * claim: the port just below each range is bound by this JVM for as long as it lives, and a JVM that cannot bind the
 * port below a range does not take it. Each JVM starts its search at a place of its own (from its PID), so they
 * rarely even try the same range. A test that restarts a manager on the same range keeps the {@link PortRange}.
 */
public final class TestPorts {
  /** The band's lowest port: above the ports the manager and its agents use by default (6100-7020). */
  private static final int BAND_FIRST = 20000;
  /** One past its highest: below 26100-27639, where tests of branches not yet on this helper hold fixed ranges. */
  private static final int BAND_LIMIT = 26000;
  private static final Path EPHEMERAL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  private static final int BAND_END = bandEnd();
  /** The claims of this JVM, bound until it exits. */
  private static final List<ServerSocket> CLAIMS = new ArrayList<>();
  private static int next = BAND_FIRST + (int) (ProcessHandle.current().pid() * 7919 % (BAND_END - BAND_FIRST));

  private TestPorts() {}

  /** A range of {@code count} consecutive ports, free now, that no other test of this JVM gets. */
  public static synchronized PortRange range(int count) {
    int bandSize = BAND_END - BAND_FIRST;
    for (int tried = 0; tried < bandSize; tried += count + 1) {
      if (next + count + 1 > BAND_END) {
        next = BAND_FIRST;
      }
      int claim = next;
      next += count + 1;
      PortRange range = new PortRange(claim + 1, claim + count);
      if (claimed(claim) && allFree(range)) {
        return range;
      }
    }
    throw new IllegalStateException("no " + count + " free consecutive ports left in " + BAND_FIRST + "-"
        + (BAND_END - 1));
  }

  /** Binds {@code port} for this JVM's life (a claim other JVMs see), or says it could not. */
  private static boolean claimed(int port) {
    try {
      ServerSocket socket = new ServerSocket();
      try {
        socket.bind(new InetSocketAddress("0.0.0.0", port));
        CLAIMS.add(socket);
        return true;
      } catch (IOException e) {
        socket.close();
        return false;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean allFree(PortRange range) {
    for (int port = range.first(); port <= range.last(); port++) {
      if (!TestManager.bindable(port)) {
        return false;
      }
    }
    return true;
  }

  /** One past the band's highest port: {@link #BAND_LIMIT}, or the ephemeral range's first port if lower. */
  private static int bandEnd() {
    try {
      // By lines: Files.readString gets only the first byte of this /proc/sys file (JDK 17).
      int ephemeralFirst = Integer.parseInt(Files.readAllLines(EPHEMERAL).get(0).trim().split("\\s+")[0]);
      if (ephemeralFirst <= BAND_FIRST + 1000) {
        throw new IllegalStateException("the ephemeral port range (" + EPHEMERAL + ") starts at " + ephemeralFirst
            + ": test ports need some room between " + BAND_FIRST + " and it");
      }
      return Math.min(ephemeralFirst, BAND_LIMIT);
    } catch (IOException e) {
      return BAND_LIMIT;
    }
  }
}
