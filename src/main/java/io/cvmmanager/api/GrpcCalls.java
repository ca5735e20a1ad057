package io.cvmmanager.api;

import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.Message;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import io.vertx.grpc.server.Service;
import io.vertx.grpc.server.StatusException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every call the gRPC server takes, from its bytes to its reply. Methods are bound with a bytes decoder, so that a
 * request is bounded and parsed by {@link WireRequests} (INVALID_ARGUMENT for what does not parse, RESOURCE_EXHAUSTED
 * naming the limit for what is too big) instead of being cancelled by the library. A unary call ends in one of two
 * ways: its reply was written, or it was not — the client cancelled, its deadline passed, its connection dropped,
 * the write failed, or the method failed — and then the method's undo runs (a CreateVm whose client never got the
 * id is undone). On {@link #drain} new calls are refused with UNAVAILABLE, open streams end, and the returned future
 * completes once every call under way has been answered or undone.
 */
final class GrpcCalls {
  private static final Logger LOG = LoggerFactory.getLogger(GrpcCalls.class);

  /** A unary method: the parsed request and its call, to the reply. */
  interface Unary<Req, Resp> extends BiFunction<Req, Call, Future<Resp>> {}

  private final Vertx vertx;
  /** How long a call may take to send its request message. */
  private final Duration receiveTimeout;
  /** Calls under way: each completes once its reply is written or its undo is done. */
  private final Set<Future<Void>> unsettled = new LinkedHashSet<>();
  /** What ends each open server stream when the manager stops. */
  private final Set<Runnable> openStreams = new LinkedHashSet<>();
  private boolean draining;

  GrpcCalls(Vertx vertx, Duration receiveTimeout) {
    this.vertx = vertx;
    this.receiveTimeout = receiveTimeout;
  }

  boolean draining() {
    return draining;
  }

  /** A service for {@link GrpcServer#addService} (so that reflection lists it) whose methods {@code binder} binds. */
  static Service service(ServiceName name, ServiceDescriptor descriptor, Consumer<GrpcServer> binder) {
    return new Service() {
      @Override
      public ServiceName name() {
        return name;
      }

      @Override
      public ServiceDescriptor descriptor() {
        return descriptor;
      }

      @Override
      public void bind(GrpcServer server) {
        binder.accept(server);
      }
    };
  }

  /** Binds unary {@code method} of {@code service}, whose request is of {@code prototype}'s type. */
  <Req extends Message, Resp extends Message> void unary(GrpcServer server, ServiceName service, String method,
      Req prototype, Unary<Req, Resp> handler) {
    server.callHandler(GrpcCalls.<Resp>serverMethod(service, method), request ->
        receive(method, request, prototype, parsed -> new UnaryCall<>(method, request).run(parsed, handler)));
  }

  /**
   * Binds server-streaming {@code method}: {@code handler} gets the parsed request and the gRPC request to answer
   * on; it registers, through {@link #streamOpened}, how the stream ends when the manager stops.
   */
  <Req extends Message, Resp extends Message> void stream(GrpcServer server, ServiceName service, String method,
      Req prototype, BiConsumer<Req, GrpcServerRequest<Buffer, Resp>> handler) {
    server.callHandler(GrpcCalls.<Resp>serverMethod(service, method), request ->
        receive(method, request, prototype, parsed -> handler.accept(parsed, request)));
  }

  /** {@code stop} ends the stream when the manager stops; call the returned action once the stream has ended. */
  Runnable streamOpened(Runnable stop) {
    if (draining) {
      stop.run();
      return () -> { };
    }
    openStreams.add(stop);
    return () -> openStreams.remove(stop);
  }

  /**
   * Refuses new calls, ends open streams, and completes once every call under way is settled (answered or undone),
   * or after {@code timeout}, whichever comes first.
   */
  Future<Void> drain(Duration timeout) {
    draining = true;
    List.copyOf(openStreams).forEach(Runnable::run);
    openStreams.clear();
    if (!unsettled.isEmpty()) {
      LOG.info("draining: waiting for {} call(s) under way (at most {} s)", unsettled.size(), timeout.toSeconds());
    }
    return Future.join(List.copyOf(unsettled)).<Void>mapEmpty()
        .timeout(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)
        .onFailure(e -> LOG.warn("draining: {} call(s) still under way after {} s", unsettled.size(),
            timeout.toSeconds()))
        .otherwiseEmpty();
  }

  private static <Resp extends Message> ServiceMethod<Buffer, Resp> serverMethod(ServiceName service, String method) {
    return ServiceMethod.server(service, method, GrpcMessageEncoder.encoder(), GrpcMessageDecoder.IDENTITY);
  }

  /**
   * The first message of {@code request}, inflated if compressed (bounded), then bounded and parsed, to
   * {@code onRequest}; every failure answered here. A call whose message does not come within
   * {@link #receiveTimeout} is answered too, so that no call waits for ever on a client that sends nothing.
   */
  private <Req extends Message, Resp> void receive(String method, GrpcServerRequest<Buffer, Resp> request,
      Req prototype, Consumer<Req> onRequest) {
    GrpcServerResponse<Buffer, Resp> response = request.response();
    if (draining) {
      answer(response, new StatusException(GrpcStatus.UNAVAILABLE, method + ": the manager is stopping"));
      return;
    }
    boolean[] received = {false};
    long timer = vertx.setTimer(receiveTimeout.toMillis(), t -> {
      if (!received[0]) {
        received[0] = true;
        answer(response, new StatusException(GrpcStatus.INVALID_ARGUMENT, method + ": no complete request message"
            + " within " + receiveTimeout.toSeconds() + " s"));
      }
    });
    // The first of message, end and invalid message decides; later ones (a second message) change nothing.
    BooleanSupplier first = () -> {
      if (received[0]) {
        return false;
      }
      received[0] = true;
      vertx.cancelTimer(timer);
      return true;
    };
    request.invalidMessageHandler(invalid -> {
      if (first.getAsBoolean()) {
        String size = invalid instanceof MessageSizeOverflowException overflow
            ? overflow.messageSize() + " bytes" : "a request";
        answer(response, new StatusException(GrpcStatus.RESOURCE_EXHAUSTED, method + ": " + size
            + " is over the message limit of " + GrpcApiVerticle.MAX_MESSAGE_BYTES + " bytes"));
      }
    });
    request.endHandler(v -> {
      if (first.getAsBoolean()) {
        answer(response, new StatusException(GrpcStatus.INVALID_ARGUMENT, method + ": the request ended without"
            + " a complete message"));
      }
    });
    // The raw message, not handler(): the library's decoder would inflate a compressed one without a bound.
    request.messageHandler(message -> {
      if (!first.getAsBoolean()) {
        return;
      }
      if (draining) {
        answer(response, new StatusException(GrpcStatus.UNAVAILABLE, method + ": the manager is stopping"));
        return;
      }
      Req parsed;
      try {
        parsed = WireRequests.parse(method, WireRequests.payload(method, message), prototype);
      } catch (StatusException e) {
        answer(response, e);
        return;
      }
      onRequest.accept(parsed);
    });
  }

  /** Fails the call with {@code status}, if the stream still takes it. */
  private static void answer(GrpcServerResponse<?, ?> response, StatusException status) {
    try {
      response.fail(status);
    } catch (IllegalStateException closed) {
      LOG.debug("call already closed: {}", closed.getMessage());
    }
  }

  /** What a unary method may ask of its call: an undo for when its reply does not reach the client. */
  static final class Call {
    private Supplier<Future<Void>> undo = Future::succeededFuture;
    private Supplier<Future<Void>> confirm = Future::succeededFuture;

    /** {@code undo} runs once if no successful reply of this call is delivered, whatever the reason. */
    void undoUnlessDelivered(Supplier<Future<Void>> undo) {
      this.undo = undo;
    }

    /**
     * {@code confirm} runs once the method succeeded, just before its reply is written; if it fails, the client is
     * answered its failure instead and the undo runs (a create that its owner settled as failed meanwhile).
     */
    void confirmBeforeDelivery(Supplier<Future<Void>> confirm) {
      this.confirm = confirm;
    }
  }

  /** One unary call from its parsed request to its settled end. */
  private final class UnaryCall<Resp extends Message> {
    private final String method;
    private final GrpcServerRequest<Buffer, Resp> request;
    private final GrpcServerResponse<Buffer, Resp> response;
    private final Call call = new Call();
    private final Promise<Void> settled = Promise.promise();
    /** Nothing more is written once this is set: a reply went out, or the client can no longer get one. */
    private boolean closed;
    private boolean undone;
    private long deadlineTimer = -1;

    UnaryCall(String method, GrpcServerRequest<Buffer, Resp> request) {
      this.method = method;
      this.request = request;
      this.response = request.response();
    }

    <Req> void run(Req parsed, Unary<Req, Resp> handler) {
      unsettled.add(settled.future());
      settled.future().onComplete(ar -> unsettled.remove(settled.future()));
      request.errorHandler(error -> gone("the client ended the call (" + error + ")"));
      request.exceptionHandler(error -> gone("the call broke (" + error.getMessage() + ")"));
      response.exceptionHandler(error -> gone("the call broke (" + error.getMessage() + ")"));
      if (request.timeout() > 0) {
        deadlineTimer = vertx.setTimer(request.timeout(), t -> {
          deadlineTimer = -1;
          if (!closed) {
            answer(response, new StatusException(GrpcStatus.DEADLINE_EXCEEDED,
                method + ": the client's deadline of " + request.timeout() + " ms passed"));
            gone("the client's deadline passed");
          }
        });
      }
      Future<Resp> result;
      try {
        result = handler.apply(parsed, call);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        if (deadlineTimer >= 0) {
          vertx.cancelTimer(deadlineTimer);
        }
        afterStep(ar, () -> confirmThenDeliver(ar.result()));
      });
    }

    private void confirmThenDeliver(Resp reply) {
      Future<Void> confirmed;
      try {
        confirmed = call.confirm.get();
      } catch (RuntimeException e) {
        confirmed = Future.failedFuture(e);
      }
      confirmed.onComplete(ar -> afterStep(ar, () -> deliver(reply)));
    }

    /**
     * After the method, or its confirmation: {@code next} if it succeeded and the client can still get the reply;
     * else the client is answered the failure (if it still takes one) and the undo runs.
     */
    private void afterStep(AsyncResult<?> step, Runnable next) {
      if (closed) {
        undo();
      } else if (step.failed()) {
        closed = true;
        answer(response, GrpcErrors.toStatus(method, step.cause()));
        undo();
      } else {
        next.run();
      }
    }

    private void deliver(Resp reply) {
      closed = true;
      Future<Void> written;
      try {
        written = response.end(reply);
      } catch (IllegalStateException e) {
        written = Future.failedFuture(e);
      }
      written.onComplete(ar -> {
        if (ar.succeeded()) {
          settled.tryComplete();
        } else {
          LOG.warn("{}: the reply could not be delivered ({}); undoing", method, ar.cause().getMessage());
          undo();
        }
      });
    }

    private void gone(String why) {
      if (!closed) {
        closed = true;
        LOG.info("{}: {} before the reply; undoing what it did", method, why);
        undo();
      }
    }

    private void undo() {
      if (undone) {
        return;
      }
      undone = true;
      Future<Void> undoing;
      try {
        undoing = call.undo.get();
      } catch (RuntimeException e) {
        undoing = Future.failedFuture(e);
      }
      undoing.onComplete(ar -> {
        if (ar.failed()) {
          LOG.warn("{}: undo failed: {}", method, ar.cause().getMessage());
        }
        settled.tryComplete();
      });
    }
  }
}
