package io.cvmmanager.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.ManagerServiceGrpcService;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.bus.Address;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.BusMessage;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.cvmmanager.vm.VmCreateRequest;
import io.cvmmanager.vm.VmSize;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.StatusException;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;

/**
 * upstream's {@code manager.ManagerService}, bound by {@link GrpcCalls} (which parses and bounds the requests). Holds
 * no VM state: CreateVm, RemoveVm and AttestationPolicy travel to their owners over the event bus; CVMInfo answers
 * from configuration. A CreateVm whose reply does not reach its client is abandoned: the launcher cuts it short, or
 * removes the VM it made. Every call is timed
 * ({@code cvm_grpc_requests}, and upstream's {@code manager_api_request_*}) and traced (a server span {@code manager.ManagerService/<method>}, whose context
 * travels with the event-bus request as {@code traceparent}).
 */
final class ManagerApi {
  static final String SERVICE = "manager.ManagerService";
  static final String VM_ID = "cvm.vm.id";

  private final Fleet fleet;
  private final ManagerConfig config;
  private final ManagerMetrics metrics;
  private final Tracing tracing;
  private final DeliveryOptions delivery;

  ManagerApi(Fleet fleet, ManagerConfig config, ManagerMetrics metrics, Tracing tracing) {
    this.fleet = fleet;
    this.config = config;
    this.metrics = metrics;
    this.tracing = tracing;
    this.delivery = new DeliveryOptions().setSendTimeout(config.grpcTimeout().toMillis());
  }

  /** Binds every method of upstream's service. */
  void bind(GrpcCalls calls, GrpcServer server) {
    ServiceName name = ManagerServiceGrpcService.SERVICE_NAME;
    calls.unary(server, name, "CreateVm", CreateReq.getDefaultInstance(),
        (req, call) -> createVm(req, VmSize.CONFIGURED, call));
    calls.unary(server, name, "RemoveVm", RemoveReq.getDefaultInstance(), (req, call) -> removeVm(req));
    calls.unary(server, name, "CVMInfo", CVMInfoReq.getDefaultInstance(), (req, call) -> cVMInfo(req));
    calls.unary(server, name, "AttestationPolicy", AttestationPolicyReq.getDefaultInstance(),
        (req, call) -> attestationPolicy(req));
  }

  /**
   * Upstream's CreateVm, with the VM's own sizes when our API's CreateVm gives them (traced and counted as
   * upstream's CreateVm, "Run": the same call with the same saga).
   */
  Future<CreateRes> createVm(CreateReq req, VmSize size, GrpcCalls.Call call) {
    VmCreateRequest request = new VmCreateRequest(req.getAgentLogLevel(), req.getAgentCvmServerCaCert().toByteArray(),
        req.getAgentCvmClientKey().toByteArray(), req.getAgentCvmClientCert().toByteArray(),
        req.getAgentCvmServerUrl(), req.getAgentCvmCaUrl(), req.getTtl(), req.getAgentCertsToken(),
        req.getAwsAccessKeyId(), req.getAwsSecretAccessKey(), req.getAwsEndpointUrl(), req.getAwsRegion(),
        req.getAaKbsParams(), size);
    // Names this create to the launcher, so that it can be abandoned before its id is known.
    String callId = UUID.randomUUID().toString();
    call.undoUnlessDelivered(() -> fleet.abandon(callId, new DeliveryOptions(delivery)).otherwiseEmpty());
    call.confirmBeforeDelivery(() -> fleet.confirm(callId));
    return observed("CreateVm", span -> fleet.create(new CreateVm(request, callId),
            Tracing.inject(span.getSpanContext(), new DeliveryOptions(delivery)))
        .recover(error -> Future.failedFuture(GrpcErrors.toStatus("CreateVm", error)))
        .map(created -> {
          span.setAttribute(VM_ID, created.id());
          return CreateRes.newBuilder()
              .setCvmId(created.id())
              .setForwardedPort(String.valueOf(created.port()))
              .build();
        }));
  }

  Future<Empty> removeVm(RemoveReq req) {
    return observed("RemoveVm", span -> requireId("RemoveVm", req.getCvmId(), span)
        .compose(id -> request("RemoveVm", id, Addresses.VM_REMOVE, new VmId(id), span))
        .map(reply -> Empty.getDefaultInstance()));
  }

  /**
   * As upstream, the host's QEMU settings (OVMF version, CPU model) and EOS version; better than upstream, the VM's
   * own vCPUs (its own when our CreateVm sized it) and kernel command line, and NOT_FOUND for an id that is not a VM of this manager.
   */
  Future<CVMInfoRes> cVMInfo(CVMInfoReq req) {
    return observed("CVMInfo", span -> requireId("CVMInfo", req.getId(), span)
        .compose(id -> request("CVMInfo", id, Addresses.VM_GET, new VmId(id), span))
        .compose(vm -> vm.asUpstreamSeesIt().recover(e -> Future.failedFuture(GrpcErrors.toStatus("CVMInfo", e))))
        .map(vm -> CVMInfoRes.newBuilder()
            .setId(vm.id())
            .setOvmfVersion(config.qemu().ovmf().version())
            .setCpuNum(vm.vcpus())
            .setCpuType(config.qemu().cpu())
            .setKernelCmd(vm.kernelCmdline())
            .setEosVersion(config.eosVersion())
            .build()));
  }

  Future<AttestationPolicyRes> attestationPolicy(AttestationPolicyReq req) {
    return observed("AttestationPolicy", span -> requireId("AttestationPolicy", req.getId(), span)
        .compose(id -> request("AttestationPolicy", id, Addresses.ATTESTATION_POLICY, new VmId(id), span))
        .map(reply -> AttestationPolicyRes.newBuilder()
            .setId(reply.id())
            .setInfo(ByteString.copyFrom(reply.policy()))
            .build()));
  }

  private static Future<String> requireId(String rpc, String id, Span span) {
    if (id.isEmpty()) {
      return Future.failedFuture(new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": empty VM id"));
    }
    span.setAttribute(VM_ID, id);
    return Future.succeededFuture(id);
  }

  /** {@code call} inside the RPC's server span, timed by method and final gRPC status. */
  private <T> Future<T> observed(String rpc, Function<Span, Future<T>> call) {
    long start = System.nanoTime();
    return tracing.span(Tracing.withParent(tracing.tracer().spanBuilder(SERVICE + "/" + rpc), null)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute("rpc.system", "grpc")
            .setAttribute("rpc.service", SERVICE)
            .setAttribute("rpc.method", rpc),
        span -> call.apply(span).andThen(ar -> {
          GrpcStatus status = ar.succeeded() ? GrpcStatus.OK : GrpcErrors.toStatus(rpc, ar.cause()).status();
          span.setAttribute("rpc.grpc.status_code", status.code);
          Duration took = Duration.ofNanos(System.nanoTime() - start);
          metrics.rpc(rpc, status.name(), took);
          metrics.upstreamRequest(rpc, took);
        }));
  }

  /** {@code body} to the owner of VM {@code id} (this manager, or in clustered mode the node that has it). */
  private <Q extends BusMessage, R extends BusMessage> Future<R> request(String rpc, String id, Address<Q, R> address,
      Q body, Span span) {
    return fleet.toOwner(id, address, body, Tracing.inject(span.getSpanContext(), new DeliveryOptions(delivery)))
        .recover(error -> Future.failedFuture(GrpcErrors.toStatus(rpc, error)));
  }
}
