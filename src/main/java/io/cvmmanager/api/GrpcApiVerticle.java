package io.cvmmanager.api;

import io.cvmmanager.api.cvm.CvmServiceGrpcService;
import io.cvmmanager.api.manager.ManagerServiceGrpcService;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.TlsFiles;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.grpc.health.HealthService;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
  private HttpServer server;
  private GrpcCalls calls;

  public GrpcApiVerticle(ManagerConfig config, ManagerMetrics metrics, Tracing tracing) {
    this.config = config;
    this.metrics = metrics;
    this.tracing = tracing;
  }

  @Override
  public Future<?> start() {
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(MAX_MESSAGE_BYTES));
    calls = new GrpcCalls(vertx);
    ManagerApi manager = new ManagerApi(vertx.eventBus(), config, metrics, tracing);
    grpc.addService(GrpcCalls.service(ManagerServiceGrpcService.SERVICE_NAME,
        ManagerServiceGrpcService.SERVICE_DESCRIPTOR, server -> manager.bind(calls, server)));
    CvmApi cvm = new CvmApi(vertx, config);
    grpc.addService(GrpcCalls.service(CvmServiceGrpcService.SERVICE_NAME, CvmServiceGrpcService.SERVICE_DESCRIPTOR,
        server -> cvm.bind(calls, server)));
    // NOT_SERVING while draining, so that a load balancer stops sending calls here.
    grpc.addService(HealthService.create(vertx).register(HEALTH_SERVICE_NAME,
        () -> Future.succeededFuture(!calls.draining())));
    grpc.addService(ReflectionService.v1());

    TlsFiles tls = config.grpcTls();
    server = vertx.createHttpServer(serverOptions(config.grpc(), tls)).requestHandler(grpc);
    return server.listen().onSuccess(s -> {
      LOG.info("gRPC listening on {}:{} ({})", config.grpc().host(), s.actualPort(), describe(tls));
      tls.serverCaCerts().ifPresent(ca -> LOG.info("MANAGER_GRPC_SERVER_CA_CERTS {} is accepted as upstream does;"
          + " a server does not use it", ca));
    });
  }

  /**
   * Drains, as grpc-go's GracefulStop: no new call is taken, and the calls under way are answered or undone (a
   * CreateVm whose client never got the id leaves no VM) within two thirds of MANAGER_SHUTDOWN_TIMEOUT; the
   * HTTP/2 connections are told to go away meanwhile and closed after.
   */
  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    Duration drain = config.shutdownTimeout().multipliedBy(2).dividedBy(3);
    return Future.join(calls.drain(drain), server.shutdown(drain.toMillis(), TimeUnit.MILLISECONDS))
        .transform(ar -> server.close());
  }

  /** A server on {@code endpoint}: plain text, TLS or mutual TLS (client certificate required) by {@code tls}. */
  public static HttpServerOptions serverOptions(ManagerConfig.Endpoint endpoint, TlsFiles tls) {
    HttpServerOptions options = new HttpServerOptions().setHost(endpoint.host()).setPort(endpoint.port());
    if (tls.tls()) {
      options.setSsl(true).setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.cert().get()).setKeyPath(tls.key().get()));
      if (tls.mutual()) {
        options.setTrustOptions(new PemTrustOptions().addCertPath(tls.clientCaCerts().get()))
            .setClientAuth(ClientAuth.REQUIRED);
      }
    }
    return options;
  }

  /** "plain text", "TLS, certificate from ..." or "mutual TLS, ...", for the listening line. */
  public static String describe(TlsFiles tls) {
    if (!tls.tls()) {
      return "plain text";
    }
    return (tls.mutual() ? "mutual TLS" : "TLS") + ", certificate from " + tls.certSource();
  }
}
