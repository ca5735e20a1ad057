package io.cvmmanager.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.ManagerServiceService;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.launcher.VmCreateRequest;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;

/**
 * upstream's {@code manager.ManagerService}. Holds no VM state: CreateVm, RemoveVm and AttestationPolicy travel to
 * their owners over the event bus; CVMInfo answers from configuration.
 */
final class ManagerApi extends ManagerServiceService {
  private final EventBus bus;
  private final ManagerConfig config;
  private final DeliveryOptions delivery;

  ManagerApi(EventBus bus, ManagerConfig config) {
    this.bus = bus;
    this.config = config;
    this.delivery = new DeliveryOptions().setSendTimeout(config.grpcTimeout().toMillis());
  }

  @Override
  public Future<CreateRes> createVm(CreateReq req) {
    VmCreateRequest request = new VmCreateRequest(req.getAgentLogLevel(), req.getAgentCvmServerCaCert().toByteArray(),
        req.getAgentCvmClientKey().toByteArray(), req.getAgentCvmClientCert().toByteArray(),
        req.getAgentCvmServerUrl(), req.getAgentCvmCaUrl(), req.getTtl(), req.getAgentCertsToken(),
        req.getAwsAccessKeyId(), req.getAwsSecretAccessKey(), req.getAwsEndpointUrl(), req.getAwsRegion(),
        req.getAaKbsParams());
    return request("CreateVm", Addresses.VM_CREATE, request.toJson())
        .map(reply -> CreateRes.newBuilder()
            .setCvmId(reply.getString("id"))
            .setForwardedPort(String.valueOf(reply.getInteger("port")))
            .build());
  }

  @Override
  public Future<Empty> removeVm(RemoveReq req) {
    return requireId("RemoveVm", req.getCvmId())
        .compose(id -> request("RemoveVm", Addresses.VM_REMOVE, new JsonObject().put("id", id)))
        .map(reply -> Empty.getDefaultInstance());
  }

  /**
   * As upstream, the host's QEMU settings (OVMF version, vCPUs, CPU model) and EOS version; better than upstream,
   * the VM's own kernel command line, and NOT_FOUND for an id that is not a VM of this manager.
   */
  @Override
  public Future<CVMInfoRes> cVMInfo(CVMInfoReq req) {
    return requireId("CVMInfo", req.getId())
        .compose(id -> request("CVMInfo", Addresses.VM_GET, new JsonObject().put("id", id)))
        .map(vm -> CVMInfoRes.newBuilder()
            .setId(vm.getString("id"))
            .setOvmfVersion(config.qemu().ovmf().version())
            .setCpuNum(config.qemu().smp().count())
            .setCpuType(config.qemu().cpu())
            .setKernelCmd(vm.getString("kernelCmdline"))
            .setEosVersion(config.eosVersion())
            .build());
  }

  @Override
  public Future<AttestationPolicyRes> attestationPolicy(AttestationPolicyReq req) {
    return requireId("AttestationPolicy", req.getId())
        .compose(id -> request("AttestationPolicy", Addresses.ATTESTATION_POLICY, new JsonObject().put("id", id)))
        .map(reply -> AttestationPolicyRes.newBuilder()
            .setId(reply.getString("id"))
            .setInfo(ByteString.copyFrom(reply.getBinary("policy")))
            .build());
  }

  private static Future<String> requireId(String rpc, String id) {
    if (id.isEmpty()) {
      return Future.failedFuture(new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": empty VM id"));
    }
    return Future.succeededFuture(id);
  }

  private Future<JsonObject> request(String rpc, String address, JsonObject body) {
    return bus.<JsonObject>request(address, body, delivery)
        .map(message -> message.body())
        .recover(error -> Future.failedFuture(GrpcErrors.toStatus(rpc, error)));
  }
}
