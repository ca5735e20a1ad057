package io.cvmmanager.bus;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmUsage;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The bus contracts: one name per address, each listed in the README's table with its message and reply types;
 * the wire form of a message is its JSON and reads back to an equal record; in one JVM the record itself is
 * handed over; a handler's error kind comes back to the asker as that kind.
 */
class AddressesTest {
  @Test
  void everyAddressHasItsOwnNameAndItsRowInTheReadme() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Set<String> names = new HashSet<>();
    for (Address<?, ?> address : Addresses.ALL) {
      assertTrue(names.add(address.name()), "two addresses named " + address.name());
      String row = "| `" + address.name() + "`";
      assertTrue(readme.contains(row), "README's bus table has no row for " + address.name());
      String line = readme.lines().filter(l -> l.startsWith(row)).findFirst().orElseThrow();
      assertTrue(line.contains("`" + address.type().getSimpleName() + "`"), line);
      String reply = "`" + address.replyType().getSimpleName() + "`";
      // A sent or published message has no reply ("—"); a request's "done" reply is Nothing.
      assertTrue(line.contains(reply) || address.replyType() == Nothing.class && line.contains("| — |"),
          line + " should say " + reply);
    }
  }

  @Test
  void aMessageCrossesTheWireAsItsJsonAndReadsBackEqual() {
    RecordCodec<ReservePort> codec = new RecordCodec<>(ReservePort.class, ReservePort::fromJson);
    ReservePort sent = new ReservePort("5d0f3c64-1f7e-4c58-8b43-0c8c2f6a9e01", 6101);
    Buffer wire = Buffer.buffer("prefix");
    codec.encodeToWire(wire, sent);
    assertEquals(sent, codec.decodeFromWire("prefix".length(), wire));
    assertEquals(sent.toJson(), new io.vertx.core.json.JsonObject(wire.getBuffer("prefix".length() + 4,
        wire.length())));
    assertSame(sent, codec.transform(sent), "in this JVM the record itself is passed");
  }

  @Test
  void aVmViewWithItsUsageCrossesTheWireEqual() {
    VmUsage usage = new VmUsage("vm-1", 4242, 18.25, 512L << 20, 120.5, Instant.parse("2026-12-02T10:00:00.123Z"),
        Map.of("vm.pages_4k", 1024.0, "vcpu.exits", 150.0));
    VmView view = new VmView("vm-1", VmState.RUNNING, 6100, 4241, Instant.parse("2026-12-02T09:58:00Z"),
        Optional.empty(), "kernel", Tee.NONE, false, true, "console=ttyS0", Optional.empty(), "max", Optional.empty(),
        Optional.empty(), 1, 512L << 20, Optional.of(usage), "0");
    RecordCodec<VmView> codec = new RecordCodec<>(VmView.class, VmView::fromJson);
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, view);
    assertEquals(view, codec.decodeFromWire(0, wire));
    assertEquals(usage, VmUsage.fromJson(usage.toJson()));
  }

  @Test
  void aHandlersErrorKindComesBackAsThatKind() {
    Vertx vertx = Vertx.vertx();
    try {
      Bus bus = Bus.of(vertx);
      bus.serve(Addresses.PORT_RESERVE, request -> Future.failedFuture(
          new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, "no free host port")));
      bus.serve(Addresses.VM_GET, request -> {
        throw new ManagerException(ErrorKind.NOT_FOUND, "VM \"x\" not found");
      });
      Throwable exhausted = bus.request(Addresses.PORT_RESERVE, ReservePort.any("t"), Duration.ofSeconds(5))
          .transform(ar -> Future.succeededFuture(ar.cause())).await();
      assertEquals(ErrorKind.RESOURCE_EXHAUSTED, ((ManagerException) exhausted).kind());
      assertEquals("no free host port", exhausted.getMessage());
      Throwable notFound = bus.request(Addresses.VM_GET, new VmId("x"), Duration.ofSeconds(5))
          .transform(ar -> Future.succeededFuture(ar.cause())).await();
      assertEquals(ErrorKind.NOT_FOUND, ((ManagerException) notFound).kind(), "a handler that throws");
      bus.serve(Addresses.PORT_RELEASE, released -> Future.succeededFuture(Nothing.INSTANCE));
      assertSame(Nothing.INSTANCE, bus.request(Addresses.PORT_RELEASE, new Port(6101), Duration.ofSeconds(5))
          .await());
    } finally {
      vertx.close().await();
    }
  }

  /** The registry of codecs holds its Vert.x instances weakly: a closed one (tests make many) can be collected. */
  @Test
  void aClosedVertxIsNotKeptAliveByItsBus() {
    Vertx vertx = Vertx.vertx();
    Bus.of(vertx);
    vertx.close().await();
    WeakReference<Vertx> closed = new WeakReference<>(vertx);
    vertx = null;
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      System.gc();
      return closed.get() == null;
    });
  }
}
