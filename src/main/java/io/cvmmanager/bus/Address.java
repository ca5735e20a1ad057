package io.cvmmanager.bus;

import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * One event-bus address and the one message type it carries; for a request, also its reply's type. The constants
 * are in {@link Addresses}.
 *
 * @param name the address on the bus
 * @param type the message's record type
 * @param reader its JSON form read back (the inverse of {@link BusMessage#toJson})
 * @param replyType the reply's record type ({@link Messages.Nothing} for sends and publications)
 * @param replyReader the reply's JSON form read back
 */
public record Address<Q extends BusMessage, R extends BusMessage>(String name, Class<Q> type,
    Function<JsonObject, Q> reader, Class<R> replyType, Function<JsonObject, R> replyReader) {

  /** An address that is asked and answers. */
  public static <Q extends BusMessage, R extends BusMessage> Address<Q, R> request(String name, Class<Q> type,
      Function<JsonObject, Q> reader, Class<R> replyType, Function<JsonObject, R> replyReader) {
    return new Address<>(name, type, reader, replyType, replyReader);
  }

  /** An address that is told (sent or published to) and does not answer. */
  public static <Q extends BusMessage> Address<Q, Messages.Nothing> told(String name, Class<Q> type,
      Function<JsonObject, Q> reader) {
    return new Address<>(name, type, reader, Messages.Nothing.class, Messages.Nothing::fromJson);
  }

  /** The same contract at {@code name + "." + suffix}: one address per VM, such as {@code cvm.logs.<id>}. */
  public Address<Q, R> at(String suffix) {
    return new Address<>(name + "." + suffix, type, reader, replyType, replyReader);
  }

  /**
   * The same contract served by node {@code node} for the others (clustered mode): {@code <name>.node.<node>},
   * registered cluster-wide by that node alone.
   */
  public Address<Q, R> onNode(String node) {
    return at("node." + node);
  }
}
