package io.cvmmanager.bus;

import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The event bus as the verticles use it: typed by {@link Address}, and the one place errors cross it both ways —
 * a handler's {@link ManagerException} travels as its kind's code and message, and comes out at the asker as the
 * same kind; other failures (no handler, timeout) stay Vert.x's {@link ReplyException} for the API to map.
 *
 * <p>Every consumer is node-local and every message is sent local-only, so that in clustered mode one node's
 * verticles never answer another's requests by Vert.x's round robin: what crosses nodes goes through
 * {@link #serveClusterWide} and {@link #requestClusterWide}, at node-named addresses (the cluster package's).
 */
public final class Bus {
  /**
   * The Vert.x instances whose bus has the message codecs registered. Weak, and mapping to nothing that refers back
   * to the instance, so a closed Vert.x (tests make many) is not kept alive by it.
   */
  private static final Map<Vertx, Boolean> REGISTERED = new WeakHashMap<>();

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final EventBus eventBus;

  private Bus(EventBus eventBus) {
    this.eventBus = eventBus;
  }

  /** The bus of this Vert.x instance, its message codecs registered on first use. */
  public static Bus of(Vertx vertx) {
    synchronized (REGISTERED) {
      if (REGISTERED.put(vertx, Boolean.TRUE) == null) {
        Set<Class<?>> registered = new HashSet<>();
        Addresses.ALL.forEach(address -> registerCodecs(vertx.eventBus(), address, registered));
      }
    }
    return new Bus(vertx.eventBus());
  }

  private static <Q extends BusMessage, R extends BusMessage> void registerCodecs(EventBus eventBus,
      Address<Q, R> address, Set<Class<?>> registered) {
    register(eventBus, address.type(), address.reader(), registered);
    register(eventBus, address.replyType(), address.replyReader(), registered);
  }

  private static <T extends BusMessage> void register(EventBus eventBus, Class<T> type,
      Function<io.vertx.core.json.JsonObject, T> reader, Set<Class<?>> registered) {
    if (registered.add(type)) {
      eventBus.registerDefaultCodec(type, new RecordCodec<>(type, reader));
    }
  }

  /** Asks, and gives the reply or the failure as the handler raised it. */
  public <Q extends BusMessage, R extends BusMessage> Future<R> request(Address<Q, R> address, Q message,
      DeliveryOptions options) {
    return eventBus.<R>request(address.name(), message, new DeliveryOptions(options).setLocalOnly(true))
        .map(Message::body)
        .recover(error -> Future.failedFuture(fromReply(error)));
  }

  /** Asks a consumer of another node (or this one) registered with {@link #serveClusterWide}. */
  public <Q extends BusMessage, R extends BusMessage> Future<R> requestClusterWide(Address<Q, R> address, Q message,
      DeliveryOptions options) {
    return eventBus.<R>request(address.name(), message, new DeliveryOptions(options).setLocalOnly(false))
        .map(Message::body)
        .recover(error -> Future.failedFuture(fromReply(error)));
  }

  public <Q extends BusMessage, R extends BusMessage> Future<R> request(Address<Q, R> address, Q message,
      Duration timeout) {
    return request(address, message, new DeliveryOptions().setSendTimeout(timeout.toMillis()));
  }

  /** Answers every request at {@code address} with what {@code handler} completes with, or its failure. */
  public <Q extends BusMessage, R extends BusMessage> MessageConsumer<Q> serve(Address<Q, R> address,
      Function<Q, Future<R>> handler) {
    return serve(address, (message, headers) -> handler.apply(message));
  }

  /** As {@link #serve(Address, Function)}, for a handler that reads the request's headers (trace context). */
  public <Q extends BusMessage, R extends BusMessage> MessageConsumer<Q> serve(Address<Q, R> address,
      BiFunction<Q, MultiMap, Future<R>> handler) {
    return eventBus.<Q>localConsumer(address.name(), message -> answer(message, handler));
  }

  /**
   * As {@link #serve(Address, Function)}, registered in the cluster so that other nodes' {@link #requestClusterWide}
   * reach it (its address names this node). Its registration is complete when the returned future is.
   */
  public <Q extends BusMessage, R extends BusMessage> Future<MessageConsumer<Q>> serveClusterWide(
      Address<Q, R> address, BiFunction<Q, MultiMap, Future<R>> handler) {
    MessageConsumer<Q> consumer = eventBus.<Q>consumer(address.name(), message -> answer(message, handler));
    return consumer.completion().map(consumer);
  }

  private static <Q extends BusMessage, R extends BusMessage> void answer(Message<Q> message,
      BiFunction<Q, MultiMap, Future<R>> handler) {
    Future<R> reply;
    try {
      reply = handler.apply(message.body(), message.headers());
    } catch (RuntimeException e) {
      reply = Future.failedFuture(e);
    }
    reply.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        fail(message, ar.cause());
      }
    });
  }

  /** Takes every message sent or published to {@code address}. */
  public <Q extends BusMessage> MessageConsumer<Q> consume(Address<Q, Nothing> address, Handler<Q> handler) {
    return eventBus.<Q>localConsumer(address.name(), message -> handler.handle(message.body()));
  }

  /**
   * As {@link #consume}, registered in the cluster so that other nodes' {@link #sendClusterWide} reach it; its
   * registration is complete when the returned future is.
   */
  public <Q extends BusMessage> Future<MessageConsumer<Q>> consumeClusterWide(Address<Q, Nothing> address,
      Handler<Q> handler) {
    MessageConsumer<Q> consumer = eventBus.<Q>consumer(address.name(), message -> handler.handle(message.body()));
    return consumer.completion().map(consumer);
  }

  /** To a consumer of another node (or this one) registered with {@link #consumeClusterWide}. */
  public <Q extends BusMessage> void sendClusterWide(Address<Q, Nothing> address, Q message) {
    eventBus.send(address.name(), message);
  }

  public <Q extends BusMessage> void send(Address<Q, Nothing> address, Q message) {
    eventBus.send(address.name(), message, LOCAL);
  }

  /** To every consumer of every node registered with {@link #consumeClusterWide}. */
  public <Q extends BusMessage> void publishClusterWide(Address<Q, Nothing> address, Q message) {
    eventBus.publish(address.name(), message);
  }

  public <Q extends BusMessage> void publish(Address<Q, Nothing> address, Q message) {
    eventBus.publish(address.name(), message, LOCAL);
  }

  /** A failed reply as the asker sees it: a handler's error kind comes back as that kind. */
  static Throwable fromReply(Throwable error) {
    if (error instanceof ReplyException reply && reply.failureType() == ReplyFailure.RECIPIENT_FAILURE
        && reply.failureCode() > 0) {
      return new ManagerException(ErrorKind.fromCode(reply.failureCode()), reply.getMessage());
    }
    return error;
  }

  private static void fail(Message<?> message, Throwable error) {
    ErrorKind kind = error instanceof ManagerException domain ? domain.kind() : ErrorKind.INTERNAL;
    message.fail(kind.code(), error.getMessage() == null ? error.toString() : error.getMessage());
  }
}
