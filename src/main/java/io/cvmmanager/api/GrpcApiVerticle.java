package io.cvmmanager.api;

import io.cvmmanager.api.cvm.CvmServiceGrpcService;
import io.cvmmanager.api.manager.ManagerServiceGrpcService;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.TlsFiles;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.grpc.health.HealthService;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC front door: upstream's {@code manager.ManagerService}, our {@code cvm.v1.CvmService}, gRPC health (service {@code manager}) and
 * reflection, over plain text, TLS or mutual TLS depending on which files are configured.
 */
public final class GrpcApiVerticle extends VerticleBase {
  /** grpc-go's default receive limit, which upstream's clients are written against (Vert.x's default: 256 KiB). */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
  public static final String HEALTH_SERVICE_NAME = "manager";
  private static final Logger LOG = LoggerFactory.getLogger(GrpcApiVerticle.class);

  private final ManagerConfig config;
  private final ManagerMetrics metrics;
  private final Tracing tracing;
  private final Function<Vertx, Fleet> fleet;
  private HttpServer server;
  private GrpcCalls calls;

  /** A single host's API: every call goes to this manager's own verticles. */
  public GrpcApiVerticle(ManagerConfig config, ManagerMetrics metrics, Tracing tracing) {
    this(config, metrics, tracing, vertx -> Fleet.single(Bus.of(vertx)));
  }

  /**
   * @param fleet the managers calls reach, made on this verticle's context: this one alone, or the cluster
   */
  public GrpcApiVerticle(ManagerConfig config, ManagerMetrics metrics, Tracing tracing,
      Function<Vertx, Fleet> fleet) {
    this.fleet = fleet;
    this.config = config;
    this.metrics = metrics;
    this.tracing = tracing;
  }

  @Override
  public Future<?> start() {
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(MAX_MESSAGE_BYTES));
    calls = new GrpcCalls(vertx, config.grpcTimeout());
    Fleet fleet = this.fleet.apply(vertx);
    ManagerApi manager = new ManagerApi(fleet, config, metrics, tracing);
    grpc.addService(GrpcCalls.service(ManagerServiceGrpcService.SERVICE_NAME,
        ManagerServiceGrpcService.SERVICE_DESCRIPTOR, server -> manager.bind(calls, server)));
    CvmApi cvm = new CvmApi(vertx, config, manager, fleet);
    grpc.addService(GrpcCalls.service(CvmServiceGrpcService.SERVICE_NAME, CvmServiceGrpcService.SERVICE_DESCRIPTOR,
        server -> cvm.bind(calls, server)));
    // NOT_SERVING while draining, so that a load balancer stops sending calls here.
    grpc.addService(HealthService.create(vertx).register(HEALTH_SERVICE_NAME,
        () -> Future.succeededFuture(!calls.draining())));
    grpc.addService(ReflectionService.v1());

    TlsFiles tls = config.grpcTls();
    server = vertx.createHttpServer(serverOptions(config.grpc(), tls)).requestHandler(grpc);
    return server.listen().onSuccess(s -> LOG.info("gRPC listening on {}:{} ({})", config.grpc().host(),
        s.actualPort(), describe("MANAGER_GRPC_", tls)));
  }

  /**
   * Drains, as grpc-go's GracefulStop: no new call is taken (each is answered UNAVAILABLE, and gRPC health says
   * NOT_SERVING), and the calls under way are answered or undone (a CreateVm whose client never got the id leaves
   * no VM) within two thirds of MANAGER_SHUTDOWN_TIMEOUT; then the server closes. Unlike GracefulStop, GOAWAY goes
   * out only then: Vert.x's own HTTP/2 client fails a stream that ends after a GOAWAY, so a client would see an
   * error for a VM it was given. Streams that never end by themselves (a health watch, reflection) are closed with
   * the server, not waited for.
   */
  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    return calls.drain(config.shutdownTimeout().multipliedBy(2).dividedBy(3)).transform(ar -> server.close());
  }

  /**
   * A server on {@code endpoint}: plain text, TLS, or mutual TLS (a client certificate required and verified against
   * {@link TlsFiles#clientTrust()}) by {@code tls}.
   */
  public static HttpServerOptions serverOptions(ManagerConfig.Endpoint endpoint, TlsFiles tls) {
    HttpServerOptions options = new HttpServerOptions().setHost(endpoint.host()).setPort(endpoint.port());
    if (tls.tls()) {
      options.setSsl(true).setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.cert().get()).setKeyPath(tls.key().get()));
      tls.clientTrust().ifPresent(ca -> options.setTrustOptions(new PemTrustOptions().addCertPath(ca))
          .setClientAuth(ClientAuth.REQUIRED));
    }
    return options;
  }

  /**
   * The mode for the listening line, naming the variables ({@code prefix}: {@code MANAGER_GRPC_} or
   * {@code MANAGER_HTTP_}) that chose it and what a client must present.
   */
  public static String describe(String prefix, TlsFiles tls) {
    if (!tls.tls()) {
      return "plain text" + tls.serverCaCerts().map(ca -> "; " + prefix + "SERVER_CA_CERTS is unused without a"
          + " server certificate").orElse("");
    }
    String served = "certificate from " + tls.certSource();
    if (!tls.mutual()) {
      return "TLS, " + served + ", no client certificate asked for";
    }
    String trust = tls.clientCaCerts().isPresent()
        ? prefix + "CLIENT_CA_CERTS " + tls.clientCaCerts().get()
            + tls.serverCaCerts().map(ca -> " (" + prefix + "SERVER_CA_CERTS not used for clients)").orElse("")
        : prefix + "SERVER_CA_CERTS " + tls.serverCaCerts().get() + " (" + prefix + "CLIENT_CA_CERTS unset)";
    return "mutual TLS, " + served + ", client certificate required, verified against " + trust;
  }
}
