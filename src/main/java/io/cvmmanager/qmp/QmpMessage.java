package io.cvmmanager.qmp;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * One message from QEMU's QMP server, classified. QMP sends one JSON object per line: a greeting, then replies
 * ({@code return} or {@code error}, carrying the {@code id} of the command) and asynchronous events.
 */
public sealed interface QmpMessage {
  record Greeting(JsonObject qmp) implements QmpMessage {}

  record Return(String id, Object value) implements QmpMessage {}

  record Error(String id, String errorClass, String description) implements QmpMessage {}

  /** {@code timestampMicros}: QEMU's event time (seconds and microseconds since the epoch), in microseconds. */
  record Event(String name, JsonObject data, long timestampMicros) implements QmpMessage {}

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
      return new Greeting(json.getJsonObject("QMP"));
    }
    if (json.containsKey("return")) {
      return new Return(id, json.getValue("return"));
    }
    if (json.containsKey("error")) {
      JsonObject error = json.getJsonObject("error", new JsonObject());
      return new Error(id, error.getString("class", ""), error.getString("desc", ""));
    }
    if (json.containsKey("event")) {
      JsonObject ts = json.getJsonObject("timestamp", new JsonObject());
      long micros = ts.getLong("seconds", 0L) * 1_000_000L + ts.getLong("microseconds", 0L);
      return new Event(json.getString("event"), json.getJsonObject("data", new JsonObject()), micros);
    }
    return new Unknown(line);
  }
}
