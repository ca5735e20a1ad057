package io.cvmmanager.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.http.HttpApiVerticle;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.resources.HostView;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.TestCerts;
import io.cvmmanager.testing.UnaryCall;
import io.cvmmanager.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TLS matrix: every kind of client against every TLS configuration, of the gRPC server (a health check) and of
 * the HTTP server (GET /health), each over a real socket. {@link #EXPECTED} is the one table of outcomes; the
 * README's "Security" section shows it, and {@link #readmeShowsTheExpectedTable} keeps the two the same. Each
 * configuration's two servers are started once, for all their clients.
 */
class TlsMatrixTest {
  /** What is set of the six TLS variables of a server ({@code MANAGER_GRPC_*} or {@code MANAGER_HTTP_*}). */
  enum Configuration {
    PLAIN_TEXT("nothing (plain text)"),
    CERT("cert + key"),
    CLIENT_CA("cert + key + `CLIENT_CA_CERTS`"),
    SERVER_CA("cert + key + `SERVER_CA_CERTS`"),
    // The server CA file names the other CA, which signed the foreign client: it must not admit that client.
    BOTH("cert + key + both CA files");

    final String heading;

    Configuration(String heading) {
      this.heading = heading;
    }

    /** The variables of {@code prefix}'s server: the test CA in the client CA file, the other CA in the server's. */
    Map<String, String> variables(String prefix, TestCerts certs) {
      Map<String, String> values = new HashMap<>();
      if (this != PLAIN_TEXT) {
        values.put(prefix + "SERVER_CERT", certs.serverCert().toString());
        values.put(prefix + "SERVER_KEY", certs.serverKey().toString());
      }
      switch (this) {
        case CLIENT_CA -> values.put(prefix + "CLIENT_CA_CERTS", certs.caCert().toString());
        case SERVER_CA -> values.put(prefix + "SERVER_CA_CERTS", certs.caCert().toString());
        case BOTH -> {
          values.put(prefix + "CLIENT_CA_CERTS", certs.caCert().toString());
          values.put(prefix + "SERVER_CA_CERTS", certs.otherCaCert().toString());
        }
        default -> { }
      }
      return values;
    }
  }

  /**
   * A client: plain text, or TLS trusting the test CA and presenting one of {@link TestCerts#clientIdentities()}
   * (named by {@code identity}).
   */
  enum Client {
    PLAIN_TEXT("plain text (no TLS)", null),
    NO_CERTIFICATE("TLS, no client certificate", "no certificate"),
    EXPIRED("expired certificate of the CA", "expired"),
    NOT_YET_VALID("certificate of the CA not valid yet", "not yet valid"),
    FOREIGN_CA("certificate of another CA (the `SERVER_CA_CERTS` one in the last column)", "foreign CA"),
    SERVER_AUTH_ONLY("certificate of the CA for serverAuth only (EKU without clientAuth)", "serverAuth only"),
    VALID("valid certificate of the CA (EKU clientAuth)", "valid");

    final String label;
    final String identity;

    Client(String label, String identity) {
      this.label = label;
      this.identity = identity;
    }
  }

  /** What a client got. Refusals before any request: no gRPC status, no HTTP response reaches the client. */
  enum Outcome {
    SERVED("served"),
    REFUSED_IN_HANDSHAKE("refused in the handshake"),
    REFUSED_WITH_STATUS("refused with a status");

    final String label;

    Outcome(String label) {
      this.label = label;
    }
  }

  enum Protocol { GRPC, HTTP }

  private static final Outcome S = Outcome.SERVED;
  private static final Outcome R = Outcome.REFUSED_IN_HANDSHAKE;

  /** By client, the outcome under each configuration in {@link Configuration}'s order; the same for both servers. */
  static final Map<Client, List<Outcome>> EXPECTED = expected();

  private static Map<Client, List<Outcome>> expected() {
    Map<Client, List<Outcome>> table = new EnumMap<>(Client.class);
    table.put(Client.PLAIN_TEXT, List.of(S, R, R, R, R));
    table.put(Client.NO_CERTIFICATE, List.of(R, S, R, R, R));
    table.put(Client.EXPIRED, List.of(R, S, R, R, R));
    table.put(Client.NOT_YET_VALID, List.of(R, S, R, R, R));
    table.put(Client.FOREIGN_CA, List.of(R, S, R, R, R));
    table.put(Client.SERVER_AUTH_ONLY, List.of(R, S, R, R, R));
    table.put(Client.VALID, List.of(R, S, S, S, S));
    return table;
  }

  /**
   * Every refusal seen ends at once; this bounds one that would stall (Vert.x's defaults: a 10 s handshake, no idle
   * limit), so that it fails its case quickly instead of holding the run.
   */
  private static final long HANDSHAKE_TIMEOUT_SECONDS = 3;

  @TempDir
  static Path certDir;
  private static Vertx vertx;
  private static TestCerts certs;
  private static Map<String, Optional<KeyCertOptions>> identities;
  private static final Map<Configuration, ManagerConfig> SERVERS = new EnumMap<>(Configuration.class);

  @BeforeAll
  static void startServers() throws Exception {
    certs = TestCerts.create(certDir);
    identities = certs.clientIdentities();
    vertx = Vertx.vertx();
    // A launcher with no VMs on a host it knows nothing of, so that /health answers 200 "ok".
    Bus.of(vertx).serve(Addresses.VM_LIST, query -> Future.succeededFuture(new VmList(List.of(), 0)));
    Bus.of(vertx).serve(Addresses.HOST_GET, query -> Future.succeededFuture(new HostView(List.of(), List.of(),
        List.of())));
    for (Configuration configuration : Configuration.values()) {
      Map<String, String> values = new HashMap<>(configuration.variables("MANAGER_GRPC_", certs));
      values.putAll(configuration.variables("MANAGER_HTTP_", certs));
      values.put("MANAGER_GRPC_HOST", "localhost");
      values.put("MANAGER_GRPC_PORT", String.valueOf(FreePort.next()));
      values.put("MANAGER_HTTP_HOST", "localhost");
      values.put("MANAGER_HTTP_PORT", String.valueOf(FreePort.next()));
      ManagerConfig config = ConfigParser.parse(values, Path.of("/root"), true);
      ManagerMetrics metrics = ManagerMetrics.create();
      vertx.deployVerticle(new GrpcApiVerticle(config, metrics, Tracing.off())).await();
      vertx.deployVerticle(new HttpApiVerticle(config, metrics)).await();
      SERVERS.put(configuration, config);
    }
  }

  @AfterAll
  static void closeVertx() {
    vertx.close().await();
  }

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (Protocol protocol : Protocol.values()) {
      for (Configuration configuration : Configuration.values()) {
        for (Client client : Client.values()) {
          cases.add(Arguments.of(protocol, configuration, client,
              EXPECTED.get(client).get(configuration.ordinal())));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}, {1}, {2}: {3}")
  @MethodSource("cases")
  void clientGetsTheOutcomeOfTheTable(Protocol protocol, Configuration configuration, Client client,
      Outcome expected) {
    ManagerConfig server = SERVERS.get(configuration);
    Attempt attempt = protocol == Protocol.GRPC ? healthCheck(server, client) : getHealth(server, client);
    assertEquals(expected, attempt.outcome(), attempt.detail());
  }

  @Test
  void readmeShowsTheExpectedTable() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    int start = readme.indexOf("\n## Security\n");
    int end = readme.indexOf("\n## ", start + 1);
    assertTrue(start >= 0 && end > start, "README.md has a Security section");
    String table = markdownTable();
    assertTrue(readme.substring(start, end).contains(table),
        "README.md's Security section should hold this table:\n" + table);
  }

  /** {@link #EXPECTED} as the README shows it. */
  static String markdownTable() {
    StringBuilder table = new StringBuilder("| client | ");
    table.append(Stream.of(Configuration.values()).map(c -> c.heading).collect(Collectors.joining(" | ")))
        .append(" |\n|---|").append("---|".repeat(Configuration.values().length)).append('\n');
    EXPECTED.forEach((client, outcomes) -> table.append("| ").append(client.label).append(" | ")
        .append(outcomes.stream().map(o -> o.label).collect(Collectors.joining(" | "))).append(" |\n"));
    return table.toString();
  }

  /**
   * What one client got, and for a failed assertion what it saw. A failure before any reply counts as a refusal in
   * the handshake: that it is not a server that does not listen shows in each column's served cell.
   */
  record Attempt(Outcome outcome, String detail) {
    /** {@code reply}: empty when served, else the status the server answered with instead. */
    static Attempt of(Future<Optional<String>> reply, String served) {
      return reply.transform(ar -> Future.succeededFuture(ar.failed()
          ? new Attempt(Outcome.REFUSED_IN_HANDSHAKE, "failed before any reply: " + ar.cause())
          : ar.result().map(status -> new Attempt(Outcome.REFUSED_WITH_STATUS, status))
              .orElse(new Attempt(Outcome.SERVED, served)))).await();
    }
  }

  /** The gRPC health check of the manager service, SERVING when served. */
  private static Attempt healthCheck(ManagerConfig server, Client client) {
    HttpClientOptions options = clientOptions(client).setProtocolVersion(HttpVersion.HTTP_2);
    if (client == Client.PLAIN_TEXT) {
      options.setHttp2ClearTextUpgrade(false);
    } else {
      options.setUseAlpn(true);
    }
    GrpcClient grpc = UnaryCall.client(vertx, options);
    Future<Optional<String>> call = UnaryCall.<HealthCheckRequest, HealthCheckResponse>call(grpc,
            SocketAddress.inetSocketAddress(server.grpc().port(), "localhost"), "grpc.health.v1.Health", "Check",
            HealthCheckRequest.newBuilder().setService(GrpcApiVerticle.HEALTH_SERVICE_NAME).build(),
            HealthCheckResponse.newBuilder())
        .map(result -> result.status() == GrpcStatus.OK
                && result.response().getStatus() == HealthCheckResponse.ServingStatus.SERVING
            ? Optional.<String>empty() : Optional.of(result.status() + " " + result.message()))
        .eventually(grpc::close);
    return Attempt.of(call, "health check SERVING");
  }

  /** GET /health, 200 when served. */
  private static Attempt getHealth(ManagerConfig server, Client client) {
    var http = vertx.createHttpClient(clientOptions(client));
    Future<Optional<String>> get = http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("localhost")
            .setPort(server.http().port()).setURI("/health"))
        .compose(request -> request.send())
        .compose(response -> response.body().map(body -> response.statusCode() == 200
            ? Optional.<String>empty() : Optional.of(response.statusCode() + " " + body)))
        .eventually(http::close);
    return Attempt.of(get, "GET /health 200");
  }

  /** Plain text, or TLS that trusts the test CA and presents the client's certificate, if any. */
  private static HttpClientOptions clientOptions(Client client) {
    HttpClientOptions options = new HttpClientOptions().setIdleTimeout((int) HANDSHAKE_TIMEOUT_SECONDS)
        .setIdleTimeoutUnit(TimeUnit.SECONDS);
    if (client == Client.PLAIN_TEXT) {
      return options;
    }
    options.setSsl(true).setSslHandshakeTimeout(HANDSHAKE_TIMEOUT_SECONDS)
        .setSslHandshakeTimeoutUnit(TimeUnit.SECONDS)
        .setTrustOptions(new PemTrustOptions().addCertPath(certs.caCert().toString()));
    identities.get(client.identity).ifPresent(options::setKeyCertOptions);
    return options;
  }
}
