package io.cvmmanager.cluster;

import com.hazelcast.map.listener.EntryRemovedListener;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.RelayOpen;
import io.cvmmanager.bus.Messages.Relays;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.launcher.StateFile;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent port of a VM placed on another node, reachable where the client asked: upstream's CreateRes has only
 * {@code forwarded_port}, so a client reaches the agent at {@code <the manager it called>:<port>}. For such a VM
 * this node takes a port of its own HOST_FWD_RANGE (from the port pool; it is not a VM, so it does not count
 * against MAX_VMS) and relays each TCP connection to the owner's forwarded port, both ways, back-pressured (a Vert.x
 * pipe pauses the faster side). Relays are kept in {@code <state dir>/relays.json} and reopened when this node
 * restarts; one is closed when its VM leaves the cluster view (removed), not while its owner is merely unreachable.
 */
public final class AgentRelayVerticle extends VerticleBase {
  static final String FILE = "relays.json";
  private static final Duration SCAN = Duration.ofSeconds(2);
  private static final Logger LOG = LoggerFactory.getLogger(AgentRelayVerticle.class);

  private final ClusterNode node;
  private final Path file;
  private final Map<String, Relay> relays = new HashMap<>();
  /** VMs whose relay found no cluster-view entry at the last scan: closed if the next finds none either. */
  private final Set<String> missing = new HashSet<>();
  private Bus bus;
  private java.util.UUID listener;
  private NetClient client;
  /** The last write of relays.json, so that writes land in order. */
  private Future<Void> saved = Future.succeededFuture();

  /** One relay: VM {@code id}'s agent at {@code host:port}, reached here at {@code localPort}. */
  private record Relay(String id, String host, int port, int localPort, NetServer server,
      Set<NetSocket> connections) {
    JsonObject toJson() {
      return new JsonObject().put("host", host).put("port", port).put("localPort", localPort);
    }
  }

  public AgentRelayVerticle(ClusterNode node) {
    this.node = node;
    this.file = node.config().stateDir().resolve(FILE);
  }

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5000));
    bus.serve(Addresses.RELAY_OPEN, this::open);
    bus.serve(Addresses.RELAY_CLOSE, request -> close(request.id()).map(Nothing.INSTANCE));
    bus.serve(Addresses.RELAY_LIST, request -> {
      Map<String, Integer> ports = new HashMap<>();
      relays.values().forEach(r -> ports.put(r.id(), r.localPort()));
      return Future.succeededFuture(new Relays(ports));
    });
    vertx.setPeriodic(SCAN.toMillis(), t -> closeRemoved());
    // At once when a VM leaves the view; the scan above is for removals this node missed (a split, a restart).
    io.vertx.core.Context context = vertx.getOrCreateContext();
    listener = node.map(ClusterNode.VMS).addEntryListener((EntryRemovedListener<String, String>) removed ->
        context.runOnContext(v -> {
          if (relays.containsKey(removed.getKey())) {
            close(removed.getKey());
          }
        }), false);
    return reopen();
  }

  @Override
  public Future<?> stop() {
    if (listener != null) {
      node.map(ClusterNode.VMS).removeEntryListener(listener);
    }
    List<Future<Void>> closed = new ArrayList<>();
    relays.values().forEach(relay -> {
      relay.connections().forEach(NetSocket::close);
      closed.add(relay.server().close());
    });
    return Future.join(closed).transform(ar -> client.close());
  }

  /** The relays of relays.json, listening again on the same ports. */
  private Future<Void> reopen() {
    return vertx.executeBlocking(() -> Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "{}",
        false).compose(text -> {
          JsonObject saved;
          try {
            saved = new JsonObject(text);
          } catch (RuntimeException e) {
            LOG.warn("{}: not JSON ({}); relays not reopened", file, e.getMessage());
            return Future.succeededFuture();
          }
          List<Future<?>> opened = new ArrayList<>();
          for (String id : saved.fieldNames()) {
            JsonObject relay = saved.getJsonObject(id);
            opened.add(listen(id, relay.getString("host"), relay.getInteger("port"), relay.getInteger("localPort"))
                .onSuccess(r -> LOG.info("vm {}: relay reopened, port {} to {}:{}", id, r.localPort(), r.host(),
                    r.port()))
                .onFailure(e -> LOG.warn("vm {}: relay on port {} not reopened: {}", id,
                    relay.getInteger("localPort"), e.getMessage())));
          }
          return Future.join(opened).otherwiseEmpty().compose(v -> save());
        });
  }

  private Future<Port> open(RelayOpen request) {
    Relay existing = relays.get(request.id());
    if (existing != null) {
      return Future.succeededFuture(new Port(existing.localPort()));
    }
    return listen(request.id(), request.host(), request.port(), 0)
        .compose(relay -> save().map(new Port(relay.localPort())))
        .onSuccess(p -> LOG.info("vm {}: agent relay on port {} to {}:{}", request.id(), p.port(), request.host(),
            request.port()));
  }

  /** Reserves {@code localPort} (0: any) of the pool and listens there, relaying to {@code host:port}. */
  private Future<Relay> listen(String id, String host, int port, int localPort) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(5000);
    return bus.request(Addresses.PORT_RESERVE, new ReservePort("relay:" + id, localPort), options)
        .compose(reserved -> {
          Set<NetSocket> connections = new HashSet<>();
          NetServer server = vertx.createNetServer(new NetServerOptions().setHost("0.0.0.0")
              .setPort(reserved.port()).setReuseAddress(true));
          server.connectHandler(inbound -> relay(inbound, host, port, connections));
          return server.listen().map(s -> {
            Relay relay = new Relay(id, host, port, reserved.port(), server, connections);
            relays.put(id, relay);
            return relay;
          }).recover(e -> bus.request(Addresses.PORT_RELEASE, reserved, options)
              .transform(ar -> Future.failedFuture(e)));
        });
  }

  /** One client connection: paused until the owner's side is connected, then piped both ways. */
  private void relay(NetSocket inbound, String host, int port, Set<NetSocket> connections) {
    inbound.pause();
    connections.add(inbound);
    inbound.closeHandler(v -> connections.remove(inbound));
    client.connect(port, host).onComplete(ar -> {
      if (ar.failed()) {
        LOG.debug("relay to {}:{}: {}", host, port, ar.cause().getMessage());
        inbound.close();
        return;
      }
      NetSocket outbound = ar.result();
      connections.add(outbound);
      outbound.closeHandler(v -> {
        connections.remove(outbound);
        inbound.close();
      });
      inbound.closeHandler(v -> {
        connections.remove(inbound);
        outbound.close();
      });
      inbound.pipeTo(outbound);
      outbound.pipeTo(inbound);
      inbound.resume();
    });
  }

  private Future<Void> close(String id) {
    Relay relay = relays.remove(id);
    missing.remove(id);
    if (relay == null) {
      return Future.succeededFuture();
    }
    relay.connections().forEach(NetSocket::close);
    return relay.server().close()
        .transform(ar -> bus.request(Addresses.PORT_RELEASE, new Port(relay.localPort()),
            new DeliveryOptions().setSendTimeout(5000)))
        .transform(ar -> save())
        .onSuccess(v -> LOG.info("vm {}: agent relay on port {} closed", id, relay.localPort()));
  }

  /** Closes the relays of VMs that are no longer in the cluster view (two scans in a row). */
  private void closeRemoved() {
    if (relays.isEmpty()) {
      return;
    }
    Set<String> ids = Set.copyOf(relays.keySet());
    node.blocking("checking relayed VMs", () -> node.map(ClusterNode.VMS).getAll(ids).keySet())
        .onSuccess(present -> {
          for (String id : ids) {
            if (present.contains(id)) {
              missing.remove(id);
            } else if (!missing.add(id)) {
              close(id);
            }
          }
        });
  }

  private Future<Void> save() {
    JsonObject json = new JsonObject();
    relays.values().forEach(r -> json.put(r.id(), r.toJson()));
    byte[] bytes = json.encodePrettily().getBytes(StandardCharsets.UTF_8);
    saved = saved.transform(ar -> vertx.executeBlocking(() -> {
      StateFile.writeAtomically(file, bytes);
      return null;
    }, false));
    return saved.onFailure(e -> LOG.warn("{} not written: {}", file, e.getMessage()));
  }
}
