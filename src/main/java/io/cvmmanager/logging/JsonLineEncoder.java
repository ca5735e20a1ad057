package io.cvmmanager.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per line: {@code time} (RFC 3339, UTC), {@code level}, {@code logger}, {@code thread},
 * {@code msg}, then the MDC entries and the event's key-value pairs as top-level fields (so {@code "vm": "<id>"} is
 * searchable as is), and {@code error} with the stack trace if there is one. A context key that collides with one
 * of the fixed fields is written with a leading underscore. logback's own JsonEncoder nests MDC and key-value pairs
 * and writes epoch milliseconds, which log stores then have to unpick. Control characters are escaped
 * ({@link ControlCharacters}), so a value cannot end the line.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
  private static final Set<String> FIXED = Set.of("time", "level", "logger", "thread", "msg", "error");
  private static final byte[] NONE = new byte[0];
  private final JsonFactory json = new JsonFactoryBuilder().characterEscapes(new ControlEscapes()).build();

  /**
   * Jackson escapes the C0 controls on its own (a client's CR/LF stays inside the string); DEL, the C1 controls and
   * U+2028/U+2029 it would write raw, and some log readers break lines at them.
   */
  private static final class ControlEscapes extends CharacterEscapes {
    private final int[] ascii = standardAsciiEscapesForJSON();

    ControlEscapes() {
      ascii[0x7f] = ESCAPE_STANDARD;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return ascii;
    }

    @Override
    public SerializableString getEscapeSequence(int c) {
      return ControlCharacters.isControl(c) ? new SerializedString(ControlCharacters.escape((char) c)) : null;
    }
  }

  @Override
  public byte[] headerBytes() {
    return NONE;
  }

  @Override
  public byte[] footerBytes() {
    return NONE;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = json.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("logger", event.getLoggerName());
      g.writeStringField("thread", event.getThreadName());
      g.writeStringField("msg", event.getFormattedMessage());
      for (Map.Entry<String, String> entry : event.getMDCPropertyMap().entrySet()) {
        g.writeStringField(key(entry.getKey()), entry.getValue());
      }
      if (event.getKeyValuePairs() != null) {
        for (KeyValuePair pair : event.getKeyValuePairs()) {
          g.writeFieldName(key(pair.key));
          writeValue(g, pair.value);
        }
      }
      IThrowableProxy error = event.getThrowableProxy();
      if (error != null) {
        g.writeStringField("error", ThrowableProxyUtil.asString(error));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.write('\n');
    return out.toByteArray();
  }

  private static String key(String key) {
    return FIXED.contains(key) ? "_" + key : key;
  }

  private static void writeValue(JsonGenerator g, Object value) throws IOException {
    if (value == null) {
      g.writeNull();
    } else if (value instanceof Integer || value instanceof Long || value instanceof Short) {
      g.writeNumber(((Number) value).longValue());
    } else if (value instanceof Number number) {
      g.writeNumber(number.doubleValue());
    } else if (value instanceof Boolean bool) {
      g.writeBoolean(bool);
    } else {
      g.writeString(value.toString());
    }
  }
}
