package io.cvmmanager.qmp;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One message from QEMU's QMP server, classified. QMP sends one JSON object per line: a greeting, then replies
 * ({@code return} or {@code error}, carrying the {@code id} of the command) and asynchronous events.
 */
public sealed interface QmpMessage {
  /** QEMU's greeting; what it carries (version, capabilities) is not used. */
  record Greeting() implements QmpMessage {}

  record Return(String id, Object value) implements QmpMessage {}

  record Error(String id, String errorClass, String description) implements QmpMessage {}

  /**
   * {@code time}: when QEMU says the event happened (its {@code timestamp}, seconds and microseconds since the
   * epoch); when it arrived, for a message without a valid one (QEMU always sends one).
   */
  record Event(String name, JsonObject data, Instant time) implements QmpMessage {}

  /** A line that is not a QMP message at all; kept so the client can report it instead of failing silently. */
  record Unknown(String line) implements QmpMessage {}

  static QmpMessage parse(String line) {
    JsonObject json;
    try {
      json = new JsonObject(line);
    } catch (DecodeException | ClassCastException e) {
      return new Unknown(line);
    }
    String id = json.getValue("id") == null ? null : String.valueOf(json.getValue("id"));
    if (json.containsKey("QMP")) {
      return new Greeting();
    }
    if (json.containsKey("return")) {
      return new Return(id, json.getValue("return"));
    }
    if (json.containsKey("error")) {
      JsonObject error = json.getJsonObject("error", new JsonObject());
      return new Error(id, error.getString("class", ""), error.getString("desc", ""));
    }
    if (json.containsKey("event")) {
      return new Event(json.getString("event"), json.getJsonObject("data", new JsonObject()),
          time(json.getValue("timestamp")));
    }
    return new Unknown(line);
  }

  private static Instant time(Object timestamp) {
    if (timestamp instanceof JsonObject ts && ts.getValue("seconds") instanceof Number seconds
        && ts.getValue("microseconds") instanceof Number micros && seconds.longValue() >= 0
        && micros.longValue() >= 0 && micros.longValue() < 1_000_000) {
      return Instant.ofEpochSecond(seconds.longValue(), micros.longValue() * 1000);
    }
    return Instant.now();
  }
}
