package io.cvmmanager.cli;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcHeaderNames;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The manager as cocos-cli reaches it: the address from {@code MANAGER_GRPC_URL}, TLS when
 * {@code MANAGER_GRPC_SERVER_CA_CERTS} is set, mutual TLS with {@code MANAGER_GRPC_CLIENT_CERT}/{@code _KEY}. Owns its
 * Vert.x instance and closes it with itself.
 */
final class ManagerConnection implements AutoCloseable {
  static final String URL = "MANAGER_GRPC_URL";
  static final String SERVER_CA_CERTS = "MANAGER_GRPC_SERVER_CA_CERTS";
  static final String CLIENT_CERT = "MANAGER_GRPC_CLIENT_CERT";
  static final String CLIENT_KEY = "MANAGER_GRPC_CLIENT_KEY";
  static final String DEFAULT_URL = "localhost:7001";
  /** grpc-go's limit, which upstream's manager and clients are written against (Vert.x's default is 256 KiB). */
  static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  /** One unary call's outcome, keeping the status message that the generated client drops on failure. */
  record Answer<T>(GrpcStatus status, String message, T response) {
    boolean ok() {
      return status == GrpcStatus.OK;
    }
  }

  private final Vertx vertx;
  private final GrpcClient client;
  private final SocketAddress server;
  private final Duration timeout;

  private ManagerConnection(Vertx vertx, GrpcClient client, SocketAddress server, Duration timeout) {
    this.vertx = vertx;
    this.client = client;
    this.server = server;
    this.timeout = timeout;
  }

  /**
   * @param warnings told about settings that are accepted but have no effect
   * @throws IllegalArgumentException naming the variable, when the environment does not describe a usable address
   *     or TLS set-up
   */
  static ManagerConnection open(Map<String, String> env, Duration timeout, Consumer<String> warnings) {
    SocketAddress server = address(value(env, URL).orElse(DEFAULT_URL));
    HttpClientOptions http = httpOptions(env, timeout, warnings);
    // One connection, one call: one event loop, no file cache, so that a CLI call starts no more than it uses.
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1)
        .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
            .setClassPathResolvingEnabled(false)));
    GrpcClient client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(MAX_MESSAGE_BYTES), http);
    return new ManagerConnection(vertx, client, server, timeout);
  }

  /** Calls {@code method}; a transport failure is UNAVAILABLE and no answer within the timeout DEADLINE_EXCEEDED. */
  <Req, Resp> Answer<Resp> call(ServiceMethod<Resp, Req> method, Req request) {
    Future<Answer<Resp>> answer = client.request(server, method)
        .compose(req -> req.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS).send(request))
        .compose(ManagerConnection::single)
        .recover(e -> Future.succeededFuture(unavailable("connection to " + server + " failed: ", e)));
    try {
      return answer.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return noAnswer();
    }
  }

  /**
   * Runs a server stream, each message to {@code onMessage} (on the event loop), until the server ends it (OK), fails
   * it (its status and message), the connection is lost (UNAVAILABLE) or {@code interrupt} is requested (OK). The
   * timeout bounds only the wait for the manager's response headers, never a stream that has opened: a followed
   * stream may be quiet for hours. An interrupted stream is not reset but ended by {@link #close}: Vert.x 5.0.7's
   * server does not tell the service of a reset stream, while a closed connection frees its side at once.
   */
  <Req, Resp> Answer<Void> stream(ServiceMethod<Resp, Req> method, Req request, Handler<Resp> onMessage,
      Interrupt interrupt) {
    Promise<Answer<Void>> outcome = Promise.promise();
    interrupt.arm().thenRun(() -> outcome.tryComplete(new Answer<>(GrpcStatus.OK, "", null)));
    client.request(server, method).compose(req -> req.send(request))
        .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .onSuccess(response -> {
          interrupt.streamOpened();
          response.handler(onMessage);
          response.end().onComplete(end -> outcome.tryComplete(end.succeeded()
              ? new Answer<>(GrpcStatus.OK, "", null)
              : ended(response.status(), statusMessage(response), end.cause())));
        })
        .onFailure(e -> outcome.tryComplete(e instanceof TimeoutException ? noAnswer()
            : unavailable("connection to " + server + " failed: ", e)));
    return outcome.future().await();
  }

  private Answer<Void> ended(GrpcStatus status, String message, Throwable cause) {
    if (status == null || status == GrpcStatus.OK) {
      return unavailable("connection to " + server + " lost: ", cause);
    }
    return new Answer<>(status, message, null);
  }

  private static <T> Answer<T> unavailable(String what, Throwable e) {
    return new Answer<>(GrpcStatus.UNAVAILABLE, what + describe(e), null);
  }

  private <T> Answer<T> noAnswer() {
    return new Answer<>(GrpcStatus.DEADLINE_EXCEEDED, "no answer from " + server + " within "
        + (timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + "s" : timeout.toMillis() + "ms"), null);
  }

  private static <Req, Resp> Future<Answer<Resp>> single(GrpcClientResponse<Req, Resp> response) {
    return response.last().transform(last -> {
      if (last.succeeded()) {
        return Future.succeededFuture(new Answer<>(GrpcStatus.OK, "", last.result()));
      }
      GrpcStatus status = response.status();
      if (status == null || status == GrpcStatus.OK) {
        return Future.failedFuture(last.cause());
      }
      return Future.succeededFuture(new Answer<>(status, statusMessage(response), null));
    });
  }

  /**
   * The status message, wherever the server put it: Vert.x 5.0.7's client reads {@code grpc-message} only from the
   * headers of a trailers-only response, while a stream that fails after its headers carries it in the trailers.
   */
  private static String statusMessage(GrpcClientResponse<?, ?> response) {
    String message = response.statusMessage();
    if (message != null) {
      return message;
    }
    String encoded = response.trailers().get(GrpcHeaderNames.GRPC_MESSAGE);
    return encoded == null ? "" : QueryStringDecoder.decodeComponent(encoded, StandardCharsets.UTF_8);
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  static SocketAddress address(String url) {
    int colon = url.lastIndexOf(':');
    String host = colon > 0 ? url.substring(0, colon) : "";
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(url.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (host.isEmpty() || port < 1 || port > 65535) {
      throw new IllegalArgumentException(URL + ": \"" + url + "\" is not host:port");
    }
    return SocketAddress.inetSocketAddress(port, host);
  }

  /** As cocos-cli: TLS only with a server CA; the client certificate and key only with TLS, and both or neither. */
  static HttpClientOptions httpOptions(Map<String, String> env, Duration timeout, Consumer<String> warnings) {
    HttpClientOptions http = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    Optional<String> ca = file(env, SERVER_CA_CERTS);
    Optional<String> cert = ca.isPresent() ? file(env, CLIENT_CERT) : value(env, CLIENT_CERT);
    Optional<String> key = ca.isPresent() ? file(env, CLIENT_KEY) : value(env, CLIENT_KEY);
    if (ca.isEmpty()) {
      if (cert.isPresent() || key.isPresent()) {
        warnings.accept(CLIENT_CERT + "/" + CLIENT_KEY + " are ignored without " + SERVER_CA_CERTS
            + ": connecting in plain text, as cocos-cli does");
      }
      return http.setHttp2ClearTextUpgrade(false);
    }
    http.setSsl(true).setUseAlpn(true).setTrustOptions(new PemTrustOptions().addCertPath(ca.get()));
    if (cert.isPresent() != key.isPresent()) {
      throw new IllegalArgumentException(CLIENT_CERT + " and " + CLIENT_KEY + " go together; only "
          + (cert.isPresent() ? CLIENT_CERT : CLIENT_KEY) + " is set");
    }
    cert.ifPresent(c -> http.setKeyCertOptions(new PemKeyCertOptions().setCertPath(c).setKeyPath(key.get())));
    return http;
  }

  private static Optional<String> value(Map<String, String> env, String name) {
    return Optional.ofNullable(env.get(name)).filter(v -> !v.isEmpty());
  }

  /** A file the TLS set-up needs; a missing one is the user's setting to fix, not the manager being unavailable. */
  private static Optional<String> file(Map<String, String> env, String name) {
    Optional<String> path = value(env, name);
    path.filter(p -> !Files.isReadable(Path.of(p))).ifPresent(p -> {
      throw new IllegalArgumentException(name + ": cannot read " + p);
    });
    return path;
  }

  @Override
  public void close() {
    client.close().eventually(vertx::close).await();
  }
}
