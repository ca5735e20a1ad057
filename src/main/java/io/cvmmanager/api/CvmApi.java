package io.cvmmanager.api;

import com.google.protobuf.Timestamp;
import io.cvmmanager.api.cvm.CreateVmRequest;
import io.cvmmanager.api.cvm.CvmServiceGrpcService;
import io.cvmmanager.api.cvm.DrainNodeRequest;
import io.cvmmanager.api.cvm.Event;
import io.cvmmanager.api.cvm.GetHostRequest;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Gpu;
import io.cvmmanager.api.cvm.Host;
import io.cvmmanager.api.cvm.ListNodesRequest;
import io.cvmmanager.api.cvm.ListNodesResponse;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.LogLine;
import io.cvmmanager.api.cvm.Node;
import io.cvmmanager.api.cvm.Resource;
import io.cvmmanager.api.cvm.StreamLogsRequest;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.cvm.WatchEventsRequest;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.cluster.NodeList;
import io.cvmmanager.cluster.NodeRecord;
import io.cvmmanager.config.ClusterConfig;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.monitor.ConsoleTail;
import io.cvmmanager.resources.HostView;
import io.cvmmanager.vm.NodeEvent;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmLogLine;
import io.cvmmanager.vm.VmSize;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.StatusException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Our own {@code cvm.v1.CvmService}: the VM table, the host's resources, lifecycle events and console logs, from the
 * event bus. Streams
 * never block the manager: a client that does not read loses messages (counted, logged once per stream) rather
 * than holding memory or an event loop; a cancelled stream unregisters its consumers at once.
 */
final class CvmApi {
  private static final Logger LOG = LoggerFactory.getLogger(CvmApi.class);

  private final Vertx vertx;
  private final Bus bus;
  private final ManagerConfig config;
  private final DeliveryOptions delivery;
  private final ManagerApi upstream;
  private final Fleet fleet;

  CvmApi(Vertx vertx, ManagerConfig config, ManagerApi upstream, Fleet fleet) {
    this.vertx = vertx;
    this.bus = Bus.of(vertx);
    this.fleet = fleet;
    this.config = config;
    this.upstream = upstream;
    this.delivery = new DeliveryOptions().setSendTimeout(config.grpcTimeout().toMillis());
  }

  /** Binds every method of {@code cvm.v1.CvmService}. */
  void bind(GrpcCalls calls, GrpcServer server) {
    ServiceName name = CvmServiceGrpcService.SERVICE_NAME;
    calls.unary(server, name, "ListVms", ListVmsRequest.getDefaultInstance(), (request, call) -> listVms(request));
    calls.unary(server, name, "GetVm", GetVmRequest.getDefaultInstance(), (request, call) -> getVm(request));
    calls.unary(server, name, "GetHost", GetHostRequest.getDefaultInstance(), (request, call) -> getHost());
    calls.unary(server, name, "CreateVm", CreateVmRequest.getDefaultInstance(),
        (request, call) -> upstream.createVm(request.getRequest(), size(request), call));
    calls.unary(server, name, "ListNodes", ListNodesRequest.getDefaultInstance(), (request, call) -> listNodes());
    calls.unary(server, name, "DrainNode", DrainNodeRequest.getDefaultInstance(),
        (request, call) -> drain("DrainNode", request.getName(), true));
    calls.unary(server, name, "UndrainNode", DrainNodeRequest.getDefaultInstance(),
        (request, call) -> drain("UndrainNode", request.getName(), false));
    calls.<WatchEventsRequest, Event>stream(server, name, "WatchEvents", WatchEventsRequest.getDefaultInstance(),
        (message, request) -> watchEvents(message, new Stream<>("WatchEvents", request, calls)));
    calls.<StreamLogsRequest, LogLine>stream(server, name, "StreamLogs", StreamLogsRequest.getDefaultInstance(),
        (message, request) -> streamLogs(message, new Stream<>("StreamLogs", request, calls)));
  }

  /** The sizes a CreateVm gives; what they may be is checked at admission, against the configuration. */
  private static VmSize size(CreateVmRequest request) {
    // uint32 on the wire: read unsigned, so that a refusal quotes what the client sent.
    return new VmSize(request.hasVcpus() ? OptionalLong.of(Integer.toUnsignedLong(request.getVcpus()))
        : OptionalLong.empty(), request.hasMemory() ? Optional.of(request.getMemory()) : Optional.empty(),
        request.hasGpu() ? Optional.of(request.getGpu()) : Optional.empty());
  }

  Future<ListVmsResponse> listVms(ListVmsRequest request) {
    return fleet.list(delivery).map(vms -> ListVmsResponse.newBuilder().addAllVms(vms.stream().map(CvmApi::toProto)
        .toList()).build()).recover(e -> Future.failedFuture(GrpcErrors.toStatus("ListVms", e)));
  }

  Future<Vm> getVm(GetVmRequest request) {
    if (request.getId().isEmpty()) {
      return Future.failedFuture(new StatusException(GrpcStatus.INVALID_ARGUMENT, "GetVm: empty VM id"));
    }
    return fleet.get(request.getId(), delivery).map(CvmApi::toProto)
        .recover(e -> Future.failedFuture(GrpcErrors.toStatus("GetVm", e)));
  }

  Future<ListNodesResponse> listNodes() {
    return fleet.nodes(delivery).map(nodes -> ListNodesResponse.newBuilder()
            .addAllNodes(nodes.nodes().stream().map(CvmApi::toProto).toList()).build())
        .recover(e -> Future.failedFuture(GrpcErrors.toStatus("ListNodes", e)));
  }

  /** Drains or undrains the node, then answers it as the list now shows it. */
  private Future<Node> drain(String rpc, String nodeName, boolean drain) {
    if (!ClusterConfig.isNodeName(nodeName)) {
      return Future.failedFuture(new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": \""
          + ClientText.quote(nodeName) + "\" is not a node name"));
    }
    return fleet.drain(nodeName, drain, delivery)
        .compose(v -> fleet.nodes(delivery))
        .map(nodes -> nodes.nodes().stream().filter(n -> n.name().equals(nodeName)).findFirst()
            .map(CvmApi::toProto).orElse(Node.newBuilder().setName(nodeName).build()))
        .recover(e -> Future.failedFuture(GrpcErrors.toStatus(rpc, e)));
  }

  static Node toProto(NodeList.Node seen) {
    Node.Builder node = Node.newBuilder().setName(seen.name()).setState(seen.state()).addAllFlags(seen.flags());
    if (seen.record().isEmpty()) {
      return node.setVmCount(seen.vmsInView()).build();
    }
    NodeRecord record = NodeRecord.fromJson(seen.record());
    node.setTee(record.tee().name()).setVmCount(record.vmCount()).setMaxVms(record.maxVms())
        .setGrpcAddress(record.grpc()).setHttpAddress(record.http()).setHost(record.host())
        .addAllResources(toProto(record.resources()).getResourcesList());
    return node.setStoppable(seen.member() && NodeRecord.DRAINING.equals(record.state()) && record.vmCount() == 0)
        .build();
  }

  Future<Host> getHost() {
    return bus.request(Addresses.HOST_GET, Nothing.INSTANCE, delivery).map(CvmApi::toProto)
        .recover(e -> Future.failedFuture(GrpcErrors.toStatus("GetHost", e)));
  }

  private void watchEvents(WatchEventsRequest request, Stream<Event> stream) {
    String only = request.getId();
    // Live events are held back while history and replay are written, so they come first and nothing is lost.
    Deque<NodeEvent> held = new ArrayDeque<>();
    boolean[] holding = {request.getReplay() || request.getHistory()};
    fleet.watchEvents(event -> {
      if (only.isEmpty() || only.equals(event.event().id())) {
        if (holding[0]) {
          held.add(event);
        } else {
          stream.write(toProto(event));
        }
      }
    }).onSuccess(stream::onEnd)
        .compose(v -> request.getHistory() ? fleet.eventHistory(delivery)
            : Future.succeededFuture(List.<NodeEvent>of()))
        .compose(history -> (request.getReplay() ? fleet.list(delivery)
            : Future.succeededFuture(List.<Fleet.Listed>of()))
            .onSuccess(vms -> {
              history.stream().filter(event -> only.isEmpty() || only.equals(event.event().id()))
                  .forEach(event -> stream.write(toProto(event)));
              for (Fleet.Listed vm : vms) {
                if (only.isEmpty() || only.equals(vm.view().id())) {
                  String state = vm.reachable() ? vm.view().state().name() : VmState.UNREACHABLE.name();
                  stream.write(toProto(new NodeEvent(vm.node(), new VmEvent(VmEvent.STATE, vm.view().id(), state,
                      state, Instant.now(), "replay"))));
                }
              }
              holding[0] = false;
              // A live event that came while the history was fetched may be in it already.
              held.stream().filter(event -> !history.contains(event)).forEach(event -> stream.write(toProto(event)));
              held.clear();
            }))
        .onFailure(stream::fail);
  }


  /** The VM's console from wherever it runs: this node's files and bus, or (clustered) its owner's. */
  private void streamLogs(StreamLogsRequest request, Stream<LogLine> stream) {
    if (request.getId().isEmpty()) {
      stream.fail(new StatusException(GrpcStatus.INVALID_ARGUMENT, "StreamLogs: empty VM id"));
      return;
    }
    fleet.get(request.getId(), delivery).recover(e -> Future.failedFuture(GrpcErrors.toStatus("StreamLogs", e)))
        .onSuccess(vm -> {
          if (vm.node().equals(fleet.nodeName())) {
            streamLocalLogs(request, stream);
          } else {
            streamRemoteLogs(vm, request, stream);
          }
        })
        .onFailure(stream::fail);
  }

  /**
   * A console another node owns, followed through it: the same lines in the same order as on that node, and with
   * follow, a last line of stream {@code manager} saying why it ended (the VM ended, or its owner was lost).
   */
  private void streamRemoteLogs(Fleet.Listed vm, StreamLogsRequest request, Stream<LogLine> stream) {
    String id = vm.view().id();
    List<LogLine> held = new ArrayList<>();
    boolean[] tailing = {true};
    String[] endedWhy = {null};
    Runnable finish = () -> {
      stream.write(endLine(id, endedWhy[0]));
      stream.end();
    };
    fleet.followLogs(vm, request.getTail(), request.getFollow(), logLine -> {
      if (tailing[0]) {
        held.add(toProto(logLine));
      } else {
        stream.write(toProto(logLine));
      }
    }, why -> {
      endedWhy[0] = why;
      if (!tailing[0]) {
        finish.run();
      }
    }).onSuccess(following -> {
      stream.onEnd(following.stop());
      following.tail().forEach(line -> stream.write(LogLine.newBuilder().setId(id).setStream(VmLogLine.CONSOLE)
          .setLine(line).setAt(timestamp(Instant.now())).build()));
      tailing[0] = false;
      held.forEach(stream::write);
      if (endedWhy[0] != null) {
        finish.run();
      } else if (!request.getFollow()) {
        stream.end();
      }
    }).onFailure(e -> stream.fail(GrpcErrors.toStatus("StreamLogs", e)));
  }

  /** A followed console's last line, of stream {@code manager}: why it ended. */
  private static LogLine endLine(String id, String why) {
    return LogLine.newBuilder().setId(id).setStream(VmLogLine.MANAGER).setLine(why).setAt(timestamp(Instant.now())).build();
  }

  private void streamLocalLogs(StreamLogsRequest request, Stream<LogLine> stream) {
    String id = request.getId();
    view("StreamLogs", id).compose(vm -> {
      List<LogLine> held = new ArrayList<>();
      boolean[] tailing = {true};
      if (request.getFollow()) {
        MessageConsumer<VmLogLine> lines = bus.consume(Addresses.VM_LOGS.at(id), logLine -> {
          LogLine line = toProto(logLine);
          if (tailing[0]) {
            held.add(line);
          } else {
            stream.write(line);
          }
        });
        // The stream ends with the VM, its last line saying so.
        MessageConsumer<VmEvent> end = bus.consume(Addresses.EVENTS, event -> {
          if (event.id().equals(id) && VmEvent.STATE.equals(event.type())
              && (event.to().equals("STOPPED") || event.to().equals("FAILED"))) {
            stream.write(endLine(id, "the VM ended (" + event.to() + ")"));
            stream.end();
          }
        });
        stream.onEnd(() -> {
          lines.unregister();
          end.unregister();
        });
      }
      return tail(id, request.getTail()).onSuccess(last -> {
        last.forEach(line -> stream.write(LogLine.newBuilder().setId(id).setStream(VmLogLine.CONSOLE)
            .setLine(line).setAt(timestamp(Instant.now())).build()));
        tailing[0] = false;
        held.forEach(stream::write);
        if (!request.getFollow()) {
          stream.end();
        }
      });
    }).onFailure(stream::fail);
  }

  private Future<List<String>> tail(String id, int count) {
    return ConsoleTail.lines(vertx, config.stateDir(), id, count);
  }


  private Future<VmView> view(String rpc, String id) {
    if (id.isEmpty()) {
      return Future.failedFuture(new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": empty VM id"));
    }
    return bus.request(Addresses.VM_GET, new VmId(id), delivery)
        .recover(e -> Future.failedFuture(GrpcErrors.toStatus(rpc, e)));
  }

  /** A VM with where it is: its owner node, and UNREACHABLE while that node is lost. */
  static Vm toProto(Fleet.Listed listed) {
    Vm.Builder vm = toProto(listed.view()).toBuilder().setNode(listed.node()).setHost(listed.host())
        .setRelayPort(listed.relayPort());
    return listed.reachable() ? vm.build() : vm.setState(VmState.UNREACHABLE).build();
  }

  static Vm toProto(VmView view) {
    Vm.Builder vm = Vm.newBuilder().setId(view.id()).setState(VmState.valueOf(view.state().name()))
        .setPort(view.port()).setPid(view.pid()).setCreated(timestamp(view.created())).setBootMode(view.bootMode())
        .setTee(view.tee().name()).setPaused(view.paused()).setAgentReady(view.agentReady())
        .setKernelCmdline(view.kernelCmdline());
    view.ttlDeadline().ifPresent(d -> vm.setTtlDeadline(timestamp(d)));
    view.gpu().ifPresent(vm::setGpu);
    view.usage().ifPresent(usage -> vm.setCpuSeconds(usage.cpuSeconds()).setMemoryRssBytes(usage.rssBytes())
        .setUptimeSeconds(usage.uptimeSeconds()).setSampledAt(timestamp(usage.sampledAt()))
        .putAllKvmStats(usage.kvmStats()));
    return vm.setVcpus(view.vcpus()).setMemoryBytes(view.memoryBytes()).setNumaNodes(view.numaNodes()).build();
  }

  static Host toProto(HostView view) {
    Host.Builder host = Host.newBuilder().addAllWarnings(view.warnings());
    for (HostView.Resource resource : view.resources()) {
      Resource.Builder proto = Resource.newBuilder().setName(resource.name()).setUnit(resource.unit())
          .setAllocated(resource.allocated());
      resource.capacity().ifPresent(proto::setCapacity);
      resource.free().ifPresent(proto::setFree);
      host.addResources(proto);
    }
    view.gpus().forEach(gpu -> host.addGpus(Gpu.newBuilder().setBdf(gpu.bdf()).setIommuGroup(gpu.iommuGroup())
        .setVmId(gpu.vmId().orElse(""))));
    return host.build();
  }

  static Event toProto(NodeEvent nodeEvent) {
    VmEvent event = nodeEvent.event();
    return Event.newBuilder().setType(event.type()).setId(event.id()).setFrom(event.from()).setTo(event.to())
        .setAt(timestamp(event.at())).setReason(event.reason()).setNode(nodeEvent.node()).build();
  }

  static LogLine toProto(VmLogLine line) {
    return LogLine.newBuilder().setId(line.id()).setStream(line.stream()).setLine(line.line())
        .setAt(timestamp(line.at())).build();
  }

  private static Timestamp timestamp(Instant at) {
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  /**
   * One server stream: writes that never wait (a full write queue drops the message), an end that runs its
   * clean-up once, whether the server ends it, the client cancels, or the connection dies.
   */
  private static final class Stream<T> {
    private final String rpc;
    private final GrpcServerResponse<?, T> response;
    private final List<Runnable> onEnd = new ArrayList<>();
    private final AtomicLong dropped = new AtomicLong();
    private boolean ended;

    /**
     * A client's cancel (HTTP/2 RST_STREAM) reaches only the request's error handler in Vert.x 5.0.7; the manager's
     * stop ends the stream with UNAVAILABLE, so that a drain does not wait for streams that never end.
     */
    Stream(String rpc, GrpcServerRequest<?, T> request, GrpcCalls calls) {
      this.rpc = rpc;
      this.response = request.response();
      onEnd.add(calls.streamOpened(() -> fail(new StatusException(GrpcStatus.UNAVAILABLE,
          rpc + ": the manager is stopping"))));
      request.errorHandler(error -> finish());
      request.exceptionHandler(error -> finish());
      response.exceptionHandler(error -> finish());
      // Headers now, so the client knows the stream is open before the first message (which may be long coming).
      if (!ended) {
        response.writeHead();
      }
    }

    void onEnd(Runnable cleanUp) {
      if (ended) {
        cleanUp.run();
      } else {
        onEnd.add(cleanUp);
      }
    }

    void write(T message) {
      if (ended) {
        return;
      }
      if (response.writeQueueFull()) {
        if (dropped.incrementAndGet() == 1) {
          LOG.warn("{}: the client does not keep up; dropping messages", rpc);
        }
        return;
      }
      response.write(message).onFailure(e -> finish());
    }

    void end() {
      if (!ended) {
        response.end();
        finish();
      }
    }

    void fail(Throwable error) {
      if (!ended) {
        response.fail(error instanceof StatusException ? error : GrpcErrors.toStatus(rpc, error));
        finish();
      }
    }

    private void finish() {
      if (!ended) {
        ended = true;
        onEnd.forEach(Runnable::run);
        onEnd.clear();
      }
    }
  }
}
