package io.cvmmanager.testing;

import io.vertx.core.Future;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import java.util.List;

/**
 * One unary gRPC call over a real socket, keeping what the generated client drops on failure: the status message.
 */
public final class UnaryCall {
  private UnaryCall() {}

  /** The outcome of a call: status, status message, and the response messages (one for a unary call). */
  public record Result<T>(GrpcStatus status, String message, List<T> responses) {
    public T response() {
      if (status != GrpcStatus.OK || responses.size() != 1) {
        throw new AssertionError("expected one OK response, got " + status + " \"" + message + "\" " + responses);
      }
      return responses.get(0);
    }
  }

  /** A client that accepts replies as large as the manager's 4 MiB requests (Vert.x's default is 256 KiB). */
  public static GrpcClient client(io.vertx.core.Vertx vertx, io.vertx.core.http.HttpClientOptions http) {
    return GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(8 * 1024 * 1024), http);
  }

  /** A server stream: every message goes to {@code onMessage}; cancel by closing the client. */
  public static <Req extends com.google.protobuf.Message, Resp>
      io.vertx.core.Future<io.vertx.grpc.client.GrpcClientResponse<Req, Resp>> stream(GrpcClient client,
          io.vertx.core.net.SocketAddress server, String service, String method, Req request,
          com.google.protobuf.Message.Builder responseBuilder, io.vertx.core.Handler<Resp> onMessage) {
    int dot = service.lastIndexOf('.');
    io.vertx.grpc.common.ServiceMethod<Resp, Req> serviceMethod = io.vertx.grpc.common.ServiceMethod.client(
        io.vertx.grpc.common.ServiceName.create(service.substring(0, dot), service.substring(dot + 1)), method,
        io.vertx.grpc.common.GrpcMessageEncoder.encoder(),
        io.vertx.grpc.common.GrpcMessageDecoder.decoder(responseBuilder));
    // The handler is set as the response's headers arrive, before anything else runs: a message that came with
    // them (a history written at once) would be dropped by a handler set on the returned future, later.
    return client.request(server, serviceMethod).compose(req -> {
      io.vertx.core.Future<io.vertx.grpc.client.GrpcClientResponse<Req, Resp>> response = req.response();
      response.onSuccess(r -> r.handler(onMessage));
      req.end(request);
      return response;
    });
  }

  public static <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
      Future<Result<Resp>> call(GrpcClient client, SocketAddress server, String service, String method, Req request,
          com.google.protobuf.Message.Builder responseBuilder) {
    int dot = service.lastIndexOf('.');
    ServiceMethod<Resp, Req> serviceMethod = ServiceMethod.client(
        ServiceName.create(service.substring(0, dot), service.substring(dot + 1)), method,
        GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(responseBuilder));
    return client.request(server, serviceMethod)
        .compose(req -> req.send(request))
        .compose(UnaryCall::collect);
  }

  /** A unary call whose request is {@code payload} as it is, for bytes no protobuf encoder would write. */
  public static Future<Result<io.vertx.core.buffer.Buffer>> raw(GrpcClient client, SocketAddress server,
      String service, String method, io.vertx.core.buffer.Buffer payload) {
    int dot = service.lastIndexOf('.');
    ServiceMethod<io.vertx.core.buffer.Buffer, io.vertx.core.buffer.Buffer> serviceMethod = ServiceMethod.client(
        ServiceName.create(service.substring(0, dot), service.substring(dot + 1)), method,
        GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);
    return client.request(server, serviceMethod)
        .compose(req -> req.send(payload))
        .compose(UnaryCall::collect);
  }

  /**
   * The call's status and its one message. last() keeps the message even when it came before this code could set a
   * handler (a message with no handler yet is dropped by the stream, and a fast reply's headers and message arrive
   * together).
   */
  private static <Req, Resp> Future<Result<Resp>> collect(GrpcClientResponse<Req, Resp> resp) {
    return resp.last().transform(ar -> Future.succeededFuture(new Result<>(resp.status(), resp.statusMessage(),
        ar.succeeded() && ar.result() != null ? List.of(ar.result()) : List.of())));
  }

}
