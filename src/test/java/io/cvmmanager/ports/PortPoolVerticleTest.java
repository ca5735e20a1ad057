package io.cvmmanager.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PortPoolVerticleTest {
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private Future<Integer> reserve() {
    return Bus.of(vertx).request(Addresses.PORT_RESERVE, ReservePort.any("t"), Duration.ofSeconds(5))
        .map(Port::port);
  }

  private void release(int port) {
    Bus.of(vertx).request(Addresses.PORT_RELEASE, new Port(port), Duration.ofSeconds(5)).await();
  }

  @Test
  void concurrentReservationsNeverShareAPortAndExhaustionIsResourceExhausted() {
    PortRange range = TestPorts.range(10);
    vertx.deployVerticle(new PortPoolVerticle(range)).await();
    List<Future<Integer>> all = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      all.add(reserve());
    }
    Future.all(all).await();
    Set<Integer> ports = new HashSet<>();
    all.forEach(f -> ports.add(f.result()));
    assertEquals(10, ports.size());

    Throwable failure = reserve().transform(ar -> Future.succeededFuture(ar.cause())).await();
    ManagerException exhausted = (ManagerException) failure;
    assertEquals(ErrorKind.RESOURCE_EXHAUSTED, exhausted.kind());
    assertTrue(exhausted.getMessage().contains(range.toString()), exhausted.getMessage());

    release(range.first() + 3);
    assertEquals(range.first() + 3, reserve().await());
  }

  @Test
  void aPortAnotherProgramListensOnIsSkipped() throws Exception {
    PortRange range = TestPorts.range(2);
    vertx.deployVerticle(new PortPoolVerticle(range)).await();
    try (ServerSocket other = new ServerSocket()) {
      other.bind(new InetSocketAddress("127.0.0.1", range.first()));
      assertEquals(range.last(), reserve().await());
    }
  }
}
