package io.cvmmanager.ports;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out host ports from MANAGER_QEMU_HOST_FWD_RANGE for the agent port forward. A reserved port is never
 * handed out again until released; a port another program listens on is skipped (checked by binding it, on all
 * interfaces as QEMU's hostfwd does). The reserved set lives on this verticle's event loop only: no lock.
 */
public final class PortPoolVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(PortPoolVerticle.class);

  private final PortRange range;
  private final Set<Integer> reserved = new HashSet<>();
  /** Where the next search starts, so a just-released port (maybe in TIME_WAIT) is not reused at once. */
  private int cursor;

  public PortPoolVerticle(PortRange range) {
    this.range = range;
    this.cursor = range.first();
  }

  @Override
  public Future<?> start() {
    Bus bus = Bus.of(vertx);
    bus.serve(Addresses.PORT_RESERVE, this::reserve);
    bus.serve(Addresses.PORT_RELEASE, this::release);
    return Future.succeededFuture();
  }

  private Future<Port> reserve(ReservePort request) {
    Future<Integer> port = request.port() > 0 ? reserveExactly(request.port()) : search(cursor, range.size());
    return port.map(p -> {
      LOG.debug("port {} reserved for {}", p, request.id());
      return new Port(p);
    });
  }

  /** Re-reserves a given port (adoption of a VM that already holds it). */
  private Future<Integer> reserveExactly(int port) {
    if (!range.contains(port) || reserved.contains(port)) {
      return Future.failedFuture(new ManagerException(ErrorKind.RESOURCE_EXHAUSTED,
          "port " + port + " is " + (reserved.contains(port) ? "already reserved" : "outside " + range)));
    }
    reserved.add(port);
    return Future.succeededFuture(port);
  }

  private Future<Integer> search(int from, int left) {
    if (left == 0) {
      return Future.failedFuture(new ManagerException(ErrorKind.RESOURCE_EXHAUSTED,
          "no free host port in MANAGER_QEMU_HOST_FWD_RANGE " + range + " (" + reserved.size()
              + " reserved by VMs, the rest used by other programs)"));
    }
    int candidate = from > range.last() ? range.first() : from;
    int next = candidate + 1;
    if (reserved.contains(candidate)) {
      return search(next, left - 1);
    }
    // Held while the bind check runs, so a concurrent reservation cannot pick the same port.
    reserved.add(candidate);
    return bindable(candidate).compose(free -> {
      if (free) {
        cursor = next;
        return Future.succeededFuture(candidate);
      }
      reserved.remove(candidate);
      LOG.debug("port {} is in use by another program; skipped", candidate);
      return search(next, left - 1);
    });
  }

  /** bind(2) and close on the spot: a syscall that does not wait on anything, cheaper than a Vert.x server. */
  private static Future<Boolean> bindable(int port) {
    try (ServerSocketChannel channel = ServerSocketChannel.open()) {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(new InetSocketAddress("0.0.0.0", port));
      return Future.succeededFuture(true);
    } catch (IOException e) {
      return Future.succeededFuture(false);
    }
  }

  private Future<Nothing> release(Port port) {
    if (reserved.remove(port.port())) {
      LOG.debug("port {} released", port.port());
    }
    return Future.succeededFuture(Nothing.INSTANCE);
  }
}
