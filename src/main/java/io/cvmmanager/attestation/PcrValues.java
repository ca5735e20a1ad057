package io.cvmmanager.attestation;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * vTPM PCR reference values from the MANAGER_PCR_VALUES file,
 * {@code {"pcr_values":{"sha256":{"<idx>":"<hex>"},"sha384":{...},"sha1":{...}}}}: by bank (sha1, sha256, sha384),
 * then by PCR index (0..23), each the digest of the bank's length.
 */
public record PcrValues(Map<String, Map<Integer, byte[]>> banks) {
  /** Digest length in bytes of each bank the file may hold. */
  public static final Map<String, Integer> BANK_LENGTHS = Map.of("sha1", 20, "sha256", 32, "sha384", 48);
  public static final PcrValues NONE = new PcrValues(Map.of());

  public PcrValues {
    Map<String, Map<Integer, byte[]>> copy = new LinkedHashMap<>();
    banks.forEach((bank, values) -> copy.put(bank, Collections.unmodifiableMap(new TreeMap<>(values))));
    banks = Collections.unmodifiableMap(copy);
  }

  public boolean isEmpty() {
    return banks.values().stream().allMatch(Map::isEmpty);
  }

  /** Parses and validates the file's text; the message of the exception says what is wrong and where. */
  public static PcrValues parse(String json) {
    JsonObject root;
    try {
      root = new JsonObject(json);
    } catch (DecodeException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage());
    }
    Object values = root.getValue("pcr_values");
    if (!(values instanceof JsonObject pcrValues)) {
      throw new IllegalArgumentException("no \"pcr_values\" object");
    }
    Map<String, Map<Integer, byte[]>> banks = new TreeMap<>();
    for (String bank : pcrValues.fieldNames()) {
      Integer length = BANK_LENGTHS.get(bank);
      if (length == null) {
        throw new IllegalArgumentException("unknown bank \"" + bank + "\" (sha1, sha256, sha384)");
      }
      if (!(pcrValues.getValue(bank) instanceof JsonObject entries)) {
        throw new IllegalArgumentException(bank + ": not an object of index to hex digest");
      }
      Map<Integer, byte[]> digests = new TreeMap<>();
      for (String index : entries.fieldNames()) {
        int pcr;
        try {
          pcr = Integer.parseInt(index);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(bank + ": PCR index \"" + index + "\" is not a number");
        }
        if (pcr < 0 || pcr > 23) {
          throw new IllegalArgumentException(bank + ": PCR index " + pcr + " is outside 0..23");
        }
        Object hex = entries.getValue(index);
        byte[] digest;
        try {
          digest = HexFormat.of().parseHex(String.valueOf(hex));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(bank + "[" + index + "]: not hex");
        }
        if (!(hex instanceof String) || digest.length != length) {
          throw new IllegalArgumentException(bank + "[" + index + "]: want " + length * 2 + " hex characters, got "
              + (hex instanceof String s ? s.length() : "a " + hex.getClass().getSimpleName()));
        }
        digests.put(pcr, digest);
      }
      banks.put(bank, digests);
    }
    return new PcrValues(banks);
  }
}
