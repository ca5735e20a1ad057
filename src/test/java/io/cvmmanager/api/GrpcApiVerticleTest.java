package io.cvmmanager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cvmmanager.api.cvm.GetHostRequest;
import io.cvmmanager.api.cvm.Host;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.AttestationPolicyRes;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.TestCerts;
import io.cvmmanager.testing.UnaryCall;
import io.cvmmanager.tracing.Tracing;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import io.vertx.grpc.reflection.v1.ServerReflectionRequest;
import io.vertx.grpc.reflection.v1.ServerReflectionResponse;
import io.vertx.grpc.reflection.v1.ServiceResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC front door over a real socket, through a real Vert.x gRPC client. */
class GrpcApiVerticleTest {
  private static final String MANAGER = "manager.ManagerService";

  private Vertx vertx;
  private GrpcClient client;
  private SocketAddress server;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeVertx() {
    if (client != null) {
      client.close().await();
    }
    vertx.close().await();
  }

  private ManagerConfig deploy(Map<String, String> extra) throws Exception {
    int port = FreePort.next();
    Map<String, String> values = new HashMap<>(Map.of(
        "MANAGER_GRPC_HOST", "localhost",
        "MANAGER_GRPC_PORT", String.valueOf(port),
        "MANAGER_HTTP_PORT", String.valueOf(FreePort.next()),
        "MANAGER_QEMU_SMP_COUNT", "2",
        "MANAGER_QEMU_CPU", "max",
        "MANAGER_QEMU_OVMF_VERSION", "edk2-stable202302",
        "MANAGER_EOS_VERSION", "v0.4.0",
        "MANAGER_QEMU_KERNEL_CMDLINE", "console=ttyS0"));
    values.putAll(extra);
    ManagerConfig config = ConfigParser.parse(values, Path.of("/root"), true);
    vertx.deployVerticle(new GrpcApiVerticle(config, ManagerMetrics.create(), Tracing.off())).await();
    server = SocketAddress.inetSocketAddress(port, "localhost");
    return config;
  }

  /** A server with the test certificate and key, and {@code caFiles}. */
  private ManagerConfig deployTls(TestCerts certs, Map<String, String> caFiles) throws Exception {
    Map<String, String> tls = new HashMap<>(caFiles);
    tls.put("MANAGER_GRPC_SERVER_CERT", certs.serverCert().toString());
    tls.put("MANAGER_GRPC_SERVER_KEY", certs.serverKey().toString());
    return deploy(tls);
  }

  private void deployPlain() throws Exception {
    deploy(Map.of());
    client = UnaryCall.client(vertx, new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false));
  }

  @Test
  void healthReportsManagerServing() throws Exception {
    deployPlain();
    HealthCheckResponse health = UnaryCall.<HealthCheckRequest, HealthCheckResponse>call(client, server,
        "grpc.health.v1.Health", "Check", HealthCheckRequest.newBuilder().setService("manager").build(),
        HealthCheckResponse.newBuilder()).await().response();
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
  }

  @Test
  void reflectionListsManagerService() throws Exception {
    deployPlain();
    ServerReflectionResponse reflection = UnaryCall.<ServerReflectionRequest, ServerReflectionResponse>call(client,
        server, "grpc.reflection.v1.ServerReflection", "ServerReflectionInfo",
        ServerReflectionRequest.newBuilder().setListServices("").build(), ServerReflectionResponse.newBuilder())
        .await().response();
    List<String> services = reflection.getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName).toList();
    assertTrue(services.contains(MANAGER), "reflection lists " + services);
    assertTrue(services.contains("cvm.v1.CvmService"), "reflection lists " + services);
  }

  @Test
  void callsAreUnavailableWhenTheLauncherIsNotRunning() throws Exception {
    deployPlain();
    assertEquals(GrpcStatus.UNAVAILABLE, createVm().status());
    assertEquals(GrpcStatus.UNAVAILABLE, UnaryCall.<GetHostRequest, Host>call(client, server, "cvm.v1.CvmService",
        "GetHost", GetHostRequest.getDefaultInstance(), Host.newBuilder()).await().status());
  }

  @Test
  void removeVmAndAttestationPolicyRefuseAnEmptyId() throws Exception {
    deployPlain();
    UnaryCall.Result<com.google.protobuf.Empty> remove = UnaryCall.<RemoveReq, com.google.protobuf.Empty>call(
        client, server, MANAGER, "RemoveVm", RemoveReq.getDefaultInstance(), com.google.protobuf.Empty.newBuilder())
        .await();
    assertEquals(GrpcStatus.INVALID_ARGUMENT, remove.status());
    UnaryCall.Result<AttestationPolicyRes> policy = UnaryCall.<AttestationPolicyReq, AttestationPolicyRes>call(
        client, server, MANAGER, "AttestationPolicy", AttestationPolicyReq.getDefaultInstance(),
        AttestationPolicyRes.newBuilder()).await();
    assertEquals(GrpcStatus.INVALID_ARGUMENT, policy.status());
  }

  @Test
  void acceptsMessagesUpToFourMebibytesAsGrpcGoDoes() throws Exception {
    deployPlain();
    // Decoded and answered (the health service knows no such service), not refused for its size.
    UnaryCall.Result<HealthCheckResponse> threeMiB = UnaryCall.<HealthCheckRequest, HealthCheckResponse>call(client,
        server, "grpc.health.v1.Health", "Check",
        HealthCheckRequest.newBuilder().setService("x".repeat(3 << 20)).build(), HealthCheckResponse.newBuilder())
        .await();
    assertEquals(GrpcStatus.NOT_FOUND, threeMiB.status());

    CreateReq fiveMiB = CreateReq.newBuilder()
        .setAgentCvmServerCaCert(ByteString.copyFrom(new byte[5 * 1024 * 1024])).build();
    UnaryCall.Result<CreateRes> tooBig = UnaryCall.<CreateReq, CreateRes>call(client, server, MANAGER, "CreateVm",
        fiveMiB, CreateRes.newBuilder()).await();
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, tooBig.status());
  }

  /** Which client the server admits in each TLS configuration: {@link TlsMatrixTest}; here, what it says. */
  @Test
  void listeningLineNamesTheServerCaWhenItVerifiesClients(@TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.create(dir);
    ManagerConfig config = deployTls(certs, Map.of("MANAGER_GRPC_SERVER_CA_CERTS", certs.caCert().toString()));
    assertTrue(GrpcApiVerticle.describe("MANAGER_GRPC_", config.grpcTls())
        .contains("client certificate required, verified against MANAGER_GRPC_SERVER_CA_CERTS"));
  }

  @Test
  void everyCaInACaFileIsTrusted(@TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.create(dir);
    Path bundle = Files.writeString(dir.resolve("bundle.pem"),
        Files.readString(certs.caCert()) + Files.readString(certs.otherCaCert()));
    deployTls(certs, Map.of("MANAGER_GRPC_CLIENT_CA_CERTS", bundle.toString()));
    assertServedOnly(certs, Set.of("valid", "foreign CA"));
  }

  @Test
  void upstreamClientCertNamesServeAsServerCertificateWhenServerNamesAreUnset(@TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.create(dir);
    ManagerConfig config = deploy(Map.of("MANAGER_GRPC_CLIENT_CERT", certs.serverCert().toString(),
        "MANAGER_GRPC_CLIENT_KEY", certs.serverKey().toString()));
    assertTrue(config.grpcTls().certSource().contains("CLIENT_CERT"));
    client = UnaryCall.client(vertx, tlsClient(certs.caCert()));
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, health());
  }

  /**
   * Each of {@code certs}' client identities, on a connection of its own that trusts the server: those named in
   * {@code served} get the health check and reach CreateVm (UNAVAILABLE: no launcher runs here); every other one is
   * refused in the handshake, so its CreateVm fails without any gRPC status.
   */
  private void assertServedOnly(TestCerts certs, Set<String> served) throws Exception {
    certs.clientIdentities().forEach((name, identity) -> {
      HttpClientOptions options = tlsClient(certs.caCert());
      identity.ifPresent(options::setKeyCertOptions);
      client = UnaryCall.client(vertx, options);
      if (served.contains(name)) {
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health(), name);
        assertEquals(GrpcStatus.UNAVAILABLE, createVm().status(), name);
      } else {
        assertThrows(Exception.class, this::createVm, "a client with " + name + " must be refused");
      }
      client.close().await();
      client = null;
    });
  }

  private UnaryCall.Result<CreateRes> createVm() {
    return UnaryCall.<CreateReq, CreateRes>call(client, server, MANAGER, "CreateVm",
        CreateReq.newBuilder().setTtl("1h").build(), CreateRes.newBuilder()).await();
  }

  /** A call that needs no VM: the health check. */
  private HealthCheckResponse.ServingStatus health() {
    return UnaryCall.<HealthCheckRequest, HealthCheckResponse>call(client, server, "grpc.health.v1.Health", "Check",
        HealthCheckRequest.newBuilder().setService("manager").build(), HealthCheckResponse.newBuilder())
        .await().response().getStatus();
  }

  private static HttpClientOptions tlsClient(Path trustedCa) {
    return new HttpClientOptions().setSsl(true).setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2)
        .setTrustOptions(new PemTrustOptions().addCertPath(trustedCa.toString()));
  }
}
