package io.cvmmanager.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * The codec of one message record: in this JVM the record itself is handed over (it is immutable, so nothing needs
 * copying); on the wire, its JSON form, length-prefixed, so that another JVM reads the same contract.
 */
final class RecordCodec<T extends BusMessage> implements MessageCodec<T, T> {
  private final Class<T> type;
  private final Function<JsonObject, T> reader;

  RecordCodec(Class<T> type, Function<JsonObject, T> reader) {
    this.type = type;
    this.reader = reader;
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    Buffer json = message.toJson().toBuffer();
    buffer.appendInt(json.length()).appendBuffer(json);
  }

  @Override
  public T decodeFromWire(int position, Buffer buffer) {
    int length = buffer.getInt(position);
    int start = position + Integer.BYTES;
    return reader.apply(new JsonObject(buffer.getBuffer(start, start + length)));
  }

  @Override
  public T transform(T message) {
    return message;
  }

  @Override
  public String name() {
    return "cvm:" + type.getName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
