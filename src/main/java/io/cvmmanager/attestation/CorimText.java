package io.cvmmanager.attestation;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * A policy (a COSE_Sign1-wrapped or bare tag-501 CoRIM) for people: CBOR diagnostic notation with the CoRIM
 * names of the keys ({@code corim-id (0): "snp-corim-…"}), digests as {@code sha-384 <hex>}, UUIDs in their text
 * form, and upstream's measurement keys named ({@code host-data}). Keys it does not know are shown by number.
 */
public final class CorimText {
  private static final HexFormat HEX = HexFormat.of();

  /** A decoded policy: the COSE_Sign1 around it, if any, and the tag-501 CoRIM's map. */
  public record Policy(Optional<CoseSign1.Message> signed, Map<?, ?> corim) {}

  /** One map key's name and the kind of its value. */
  private record Field(String name, Kind kind) {}

  private enum Kind {
    CORIM, TAGS, COMID, TAG_IDENTITY, TRIPLES, TRIPLE_LIST, TRIPLE, ENVIRONMENT, CLASS, MEASUREMENTS, MEASUREMENT,
    MVAL, DIGESTS, REGISTERS, ANY
  }

  private static final Map<Kind, Map<Long, Field>> FIELDS = Map.of(
      Kind.CORIM, Map.of(0L, new Field("corim-id", Kind.ANY), 1L, new Field("tags", Kind.TAGS),
          2L, new Field("dependent-rims", Kind.ANY), 3L, new Field("profile", Kind.ANY),
          4L, new Field("rim-validity", Kind.ANY), 5L, new Field("entities", Kind.ANY)),
      Kind.COMID, Map.of(0L, new Field("language", Kind.ANY), 1L, new Field("tag-identity", Kind.TAG_IDENTITY),
          2L, new Field("entities", Kind.ANY), 3L, new Field("linked-tags", Kind.ANY),
          4L, new Field("triples", Kind.TRIPLES)),
      Kind.TAG_IDENTITY, Map.of(0L, new Field("tag-id", Kind.ANY), 1L, new Field("tag-version", Kind.ANY)),
      Kind.TRIPLES, Map.of(0L, new Field("reference-triples", Kind.TRIPLE_LIST),
          1L, new Field("endorsed-triples", Kind.TRIPLE_LIST), 2L, new Field("identity-triples", Kind.ANY),
          3L, new Field("attest-key-triples", Kind.ANY)),
      Kind.ENVIRONMENT, Map.of(0L, new Field("class", Kind.CLASS), 1L, new Field("instance", Kind.ANY),
          2L, new Field("group", Kind.ANY)),
      Kind.CLASS, Map.of(0L, new Field("class-id", Kind.ANY), 1L, new Field("vendor", Kind.ANY),
          2L, new Field("model", Kind.ANY), 3L, new Field("layer", Kind.ANY), 4L, new Field("index", Kind.ANY)),
      Kind.MEASUREMENT, Map.of(0L, new Field("mkey", Kind.ANY), 1L, new Field("measurement-values", Kind.MVAL),
          2L, new Field("authorized-by", Kind.ANY)),
      Kind.MVAL, Map.ofEntries(Map.entry(0L, new Field("version", Kind.ANY)), Map.entry(1L, new Field("svn", Kind.ANY)),
          Map.entry(2L, new Field("digests", Kind.DIGESTS)), Map.entry(3L, new Field("flags", Kind.ANY)),
          Map.entry(4L, new Field("raw-value", Kind.ANY)), Map.entry(5L, new Field("raw-value-mask", Kind.ANY)),
          Map.entry(6L, new Field("mac-addr", Kind.ANY)), Map.entry(7L, new Field("ip-addr", Kind.ANY)),
          Map.entry(8L, new Field("serial-number", Kind.ANY)), Map.entry(9L, new Field("ueid", Kind.ANY)),
          Map.entry(10L, new Field("uuid", Kind.ANY)), Map.entry(11L, new Field("name", Kind.ANY)),
          Map.entry(13L, new Field("cryptokeys", Kind.ANY)),
          Map.entry(14L, new Field("integrity-registers", Kind.REGISTERS))));

  private static final Map<Long, String> MKEYS = Map.of(
      CorimEncoder.MKEY_SNP_MEASUREMENT, "snp launch measurement",
      CorimEncoder.MKEY_SNP_HOST_DATA, "host-data",
      0x1002L, "snp policy",
      CorimEncoder.MKEY_SNP_MIN_LAUNCH_TCB, "min-launch-tcb",
      CorimEncoder.MKEY_TDX_MRTD, "mrtd",
      CorimEncoder.MKEY_TDX_MRSEAM, "mrseam",
      CorimEncoder.MKEY_TDX_RTMR0, "rtmr0",
      CorimEncoder.MKEY_TDX_RTMR0 + 1, "rtmr1",
      CorimEncoder.MKEY_TDX_RTMR0 + 2, "rtmr2",
      CorimEncoder.MKEY_TDX_RTMR0 + 3, "rtmr3");

  private static final Map<Long, String> ALGORITHMS = Map.of(1L, "sha-256", 2L, "sha-256-128", 7L, "sha-384",
      8L, "sha-512", 10L, "sha3-256", 11L, "sha3-384", 12L, "sha3-512");

  private CorimText() {}

  /**
   * Decodes a policy file's bytes; {@link IllegalArgumentException} saying why when they are not a CoRIM (tag 501)
   * or a COSE_Sign1 (tag 18) around one.
   */
  public static Policy decode(byte[] bytes) {
    Optional<CoseSign1.Message> signed = Optional.empty();
    byte[] corimBytes = bytes;
    if (CoseSign1.looksSigned(bytes)) {
      CoseSign1.Message message = CoseSign1.decode(bytes);
      signed = Optional.of(message);
      corimBytes = message.payload();
    }
    Object item = CborReader.read(corimBytes);
    if (!(item instanceof CborReader.Tagged tagged) || tagged.tag() != CorimEncoder.TAG_UNSIGNED_CORIM
        || !(tagged.value() instanceof Map<?, ?> corim)) {
      throw new IllegalArgumentException((signed.isPresent() ? "the COSE_Sign1 payload" : "the file")
          + " is not a CoRIM (an unsigned-corim-map in tag 501)");
    }
    return new Policy(signed, corim);
  }

  /** The annotated dump of a decoded policy, one item a line, without a trailing newline. */
  public static String text(Policy policy) {
    StringBuilder out = new StringBuilder();
    policy.signed().ifPresent(message -> {
      out.append("18 COSE_Sign1 {\n");
      out.append("  protected: {\n");
      message.protectedHeader().forEach((key, value) -> {
        out.append("    ");
        if (Long.valueOf(CoseSign1.HEADER_ALG).equals(key)) {
          out.append("alg (1): ").append(value).append(Long.valueOf(CoseSign1.ALG_ES256).equals(value) ? " (ES256)"
              : "");
        } else if (Long.valueOf(CoseSign1.HEADER_CONTENT_TYPE).equals(key)) {
          out.append("content-type (3): ").append(scalar(value));
        } else if (Long.valueOf(CoseSign1.HEADER_CORIM_META).equals(key) && value instanceof byte[] meta) {
          out.append("corim-meta (8): << ").append(inline(CborReader.read(meta))).append(" >>");
        } else {
          out.append(key).append(": ").append(inline(value));
        }
        out.append('\n');
      });
      out.append("  }\n");
      out.append("  unprotected: ").append(inline(message.unprotectedHeader())).append('\n');
      out.append("  signature: ").append(HEX.formatHex(message.signature())).append('\n');
      out.append("  payload:\n");
    });
    String indent = policy.signed().isPresent() ? "  " : "";
    out.append(indent).append("501 unsigned-corim-map ");
    value(out, policy.corim(), Kind.CORIM, indent);
    if (policy.signed().isPresent()) {
      out.append("\n}");
    }
    return out.toString();
  }

  private static void value(StringBuilder out, Object item, Kind kind, String indent) {
    String inner = indent + "  ";
    switch (kind) {
      case CORIM, COMID, TAG_IDENTITY, TRIPLES, ENVIRONMENT, CLASS, MEASUREMENT, MVAL -> {
        if (!(item instanceof Map<?, ?> map)) {
          out.append(inline(item));
          return;
        }
        out.append("{\n");
        map.forEach((key, value) -> {
          Field field = key instanceof Long number ? FIELDS.get(kind).get(number) : null;
          out.append(inner).append(field == null ? String.valueOf(key) : field.name() + " (" + key + ")")
              .append(": ");
          if (kind == Kind.MEASUREMENT && Long.valueOf(0).equals(key) && MKEYS.containsKey(value)) {
            out.append(value).append(" (0x").append(Long.toHexString((Long) value)).append(' ')
                .append(MKEYS.get(value)).append(')');
          } else if (kind == Kind.MEASUREMENT && Long.valueOf(1).equals(key)
              && Long.valueOf(CorimEncoder.MKEY_SNP_MIN_LAUNCH_TCB).equals(map.get(0L))) {
            value(out, value, Kind.MVAL, inner);
            launchTcb(value).ifPresent(tcb -> out.append('\n').append(inner).append("  = launch TCB 0x")
                .append(String.format("%016x", tcb)).append(" (little-endian)"));
          } else {
            value(out, value, field == null ? Kind.ANY : field.kind(), inner);
          }
          out.append('\n');
        });
        out.append(indent).append('}');
      }
      case TAGS -> list(out, item, inner, indent, element -> {
        if (element instanceof CborReader.Tagged tag && tag.tag() == CorimEncoder.TAG_COMID) {
          Object comid = tag.value() instanceof byte[] bytes ? CborReader.read(bytes) : tag.value();
          out.append("506 comid ").append(tag.value() instanceof byte[] ? "<< " : "");
          value(out, comid, Kind.COMID, inner);
          out.append(tag.value() instanceof byte[] ? " >>" : "");
        } else {
          out.append(inline(element));
        }
      });
      case TRIPLE_LIST -> list(out, item, inner, indent, element -> value(out, element, Kind.TRIPLE, inner));
      case TRIPLE -> {
        if (!(item instanceof List<?> triple) || triple.size() != 2) {
          out.append(inline(item));
          return;
        }
        out.append("[\n").append(inner).append("environment: ");
        value(out, triple.get(0), Kind.ENVIRONMENT, inner);
        out.append('\n').append(inner).append("measurements: ");
        value(out, triple.get(1), Kind.MEASUREMENTS, inner);
        out.append('\n').append(indent).append(']');
      }
      case MEASUREMENTS -> list(out, item, inner, indent, element -> value(out, element, Kind.MEASUREMENT, inner));
      case DIGESTS -> out.append(item instanceof List<?> digests ? String.join(", ",
          digests.stream().map(CorimText::digest).toList()) : inline(item));
      case REGISTERS -> {
        if (!(item instanceof Map<?, ?> registers)) {
          out.append(inline(item));
          return;
        }
        out.append("{\n");
        registers.forEach((index, digests) -> out.append(inner).append("pcr ").append(index).append(": ")
            .append(digests instanceof List<?> list ? String.join(", ", list.stream().map(CorimText::digest).toList())
                : inline(digests))
            .append('\n'));
        out.append(indent).append('}');
      }
      case ANY -> out.append(inline(item));
      default -> throw new IllegalStateException("kind " + kind);
    }
  }

  private static void list(StringBuilder out, Object item, String inner, String indent,
      java.util.function.Consumer<Object> element) {
    if (!(item instanceof List<?> list)) {
      out.append(inline(item));
      return;
    }
    out.append("[\n");
    for (Object each : list) {
      out.append(inner);
      element.accept(each);
      out.append('\n');
    }
    out.append(indent).append(']');
  }

  /** A digest {@code [alg, value]} as {@code sha-384 <hex>}. */
  private static String digest(Object item) {
    if (item instanceof List<?> pair && pair.size() == 2 && pair.get(1) instanceof byte[] value) {
      Object alg = pair.get(0);
      String name = alg instanceof String text ? text : ALGORITHMS.getOrDefault(alg, "alg " + alg);
      return name + " " + HEX.formatHex(value);
    }
    return inline(item);
  }

  private static Optional<Long> launchTcb(Object mval) {
    if (mval instanceof Map<?, ?> map && map.get(4L) instanceof CborReader.Tagged raw
        && raw.value() instanceof byte[] bytes && bytes.length == 8) {
      return Optional.of(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }
    return Optional.empty();
  }

  /** An item on one line: diagnostic notation, UUIDs and SVNs named. */
  static String inline(Object item) {
    if (item instanceof CborReader.Tagged tagged) {
      if (tagged.tag() == CorimEncoder.TAG_UUID && tagged.value() instanceof byte[] bytes && bytes.length == 16) {
        ByteBuffer uuid = ByteBuffer.wrap(bytes);
        return "37(uuid " + new UUID(uuid.getLong(), uuid.getLong()) + ")";
      }
      if (tagged.tag() == CorimEncoder.TAG_SVN) {
        return "552(" + inline(tagged.value()) + ") exact svn";
      }
      if (tagged.tag() == 553) {
        return "553(" + inline(tagged.value()) + ") minimum svn";
      }
      return tagged.tag() + "(" + inline(tagged.value()) + ")";
    }
    if (item instanceof Map<?, ?> map) {
      StringBuilder out = new StringBuilder("{");
      map.forEach((key, value) -> out.append(out.length() > 1 ? ", " : "").append(inline(key)).append(": ")
          .append(inline(value)));
      return out.append('}').toString();
    }
    if (item instanceof List<?> list) {
      return "[" + String.join(", ", list.stream().map(CorimText::inline).toList()) + "]";
    }
    return scalar(item);
  }

  private static String scalar(Object item) {
    if (item instanceof byte[] bytes) {
      return "h'" + HEX.formatHex(bytes) + "'";
    }
    if (item instanceof String text) {
      return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
    if (item instanceof BigInteger || item instanceof Long || item instanceof Double || item instanceof Boolean) {
      return String.valueOf(item);
    }
    return item == null ? "null" : String.valueOf(item);
  }
}
