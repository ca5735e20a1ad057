package io.cvmmanager.attestation;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one CBOR item with jackson-dataformat-cbor's {@link CBORParser} into plain values: {@link Map} (in the
 * item's order), {@link List}, {@code byte[]}, {@link String}, {@link Long} or {@link java.math.BigInteger},
 * {@link Double}, {@link Boolean}, {@code null}, and {@link Tagged} for a tagged item (one tag per item: Jackson's
 * parser tells only the first of several). Jackson hands map keys over as
 * text; a key that is the decimal text of an integer is taken as that integer (CoRIM and COSE keys are integers).
 */
final class CborReader {
  private static final CBORFactory FACTORY = new CBORFactory();

  /** A tagged item. */
  record Tagged(long tag, Object value) {}

  private CborReader() {}

  /** The one item {@code cbor} holds; {@link IllegalArgumentException} when it is not exactly one CBOR item. */
  static Object read(byte[] cbor) {
    try (CBORParser parser = FACTORY.createParser(cbor)) {
      if (parser.nextToken() == null) {
        throw new IllegalArgumentException("empty");
      }
      Object item = item(parser);
      if (parser.nextToken() != null) {
        throw new IllegalArgumentException("more than one CBOR item");
      }
      return item;
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("not CBOR: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("not CBOR: " + e.getMessage());
    }
  }

  private static Object item(CBORParser parser) throws IOException {
    if (parser.getCurrentTags().size() > 1) {
      throw new IllegalArgumentException("several tags on one item (not in CoRIM or COSE)");
    }
    int tag = parser.getCurrentTag();
    Object value = untagged(parser);
    return tag == -1 ? value : new Tagged(Integer.toUnsignedLong(tag), value);
  }

  private static Object untagged(CBORParser parser) throws IOException {
    JsonToken token = parser.currentToken();
    switch (token) {
      case START_OBJECT -> {
        Map<Object, Object> map = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          Object key = key(parser.currentName());
          parser.nextToken();
          map.put(key, item(parser));
        }
        return map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          list.add(item(parser));
        }
        return list;
      }
      case VALUE_EMBEDDED_OBJECT -> {
        return parser.getBinaryValue();
      }
      case VALUE_STRING -> {
        return parser.getText();
      }
      case VALUE_NUMBER_INT -> {
        return parser.getNumberType() == com.fasterxml.jackson.core.JsonParser.NumberType.BIG_INTEGER
            ? parser.getBigIntegerValue() : parser.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return parser.getDoubleValue();
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return parser.getBooleanValue();
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new IllegalArgumentException("unexpected CBOR token " + token);
    }
  }

  private static Object key(String name) {
    if (name.matches("-?(0|[1-9][0-9]{0,17})")) {
      return Long.parseLong(name);
    }
    return name;
  }
}
