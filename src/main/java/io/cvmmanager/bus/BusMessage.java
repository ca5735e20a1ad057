package io.cvmmanager.bus;

import io.vertx.core.json.JsonObject;

/**
 * A message on the event bus: an immutable record whose JSON form is written in its {@code toJson} and read back by
 * the reader its {@link Address} names. In this JVM the record itself travels (see {@link RecordCodec}); across
 * JVMs (clustered mode) its JSON does.
 */
public interface BusMessage {
  JsonObject toJson();
}
