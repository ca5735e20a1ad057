package io.cvmmanager.attestation;

import io.cvmmanager.vm.Tee;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Encodes a {@link PolicyInput} as an unsigned CoRIM (draft-ietf-rats-corim; CBOR tag 501) holding one CoMID (tag
 * 506 around the CoMID's bytes), deterministically: the same input gives the same bytes.
 *
 * <p>The layout follows upstream Cocos' {@code corimgen} (veraison/corim), keeping its platform names, ids, instance
 * and measurement keys, and fixing what it gets wrong (random class id, SHA-256 label on 48-byte values):
 * <pre>
 * 501({0: "&lt;platform&gt;-corim-&lt;vmId&gt;",
 *      1: [506(&lt;&lt; {1: {0: "&lt;platform&gt;-tag-&lt;vmId&gt;"},
 *                   4: {0: [TEE triple, vTPM triple (only with PCR values)]}} &gt;&gt;)]})
 * TEE triple:  [{0: {0: 37(class), 1: vendor, 2: model}, 1: 37(UUIDv5(NameSpace_OID, cpuModel))},
 *               [{0: 0x1000 (SNP) / 0x2000 (TDX), 1: {1: 552(svn)?, 2: [[alg, measurement]]}},
 *                SNP: {0: 0x1001, 1: {4: 560(host data)}}, {0: 0x1003, 1: {4: 560(launch TCB, 8 bytes LE)}}
 *                TDX: {0: 0x2001, 1: {2: [[7, MRSEAM]]}}, {0: 0x2010 + n, 1: {2: [[7, RTMRn]]}}]]
 * vTPM triple: [{0: {0: 37(vTPM class), 2: "vTPM"}, 1: 37(same instance)},
 *               [{1: {14: {pcr index: [[alg, value] per bank], ...}}}]]
 * </pre>
 * The measurement keys are upstream's (0x1000… SNP, 0x2000… TDX), so its verifier, which rejects a reference value
 * holding any other key, matches the TEE triple; the PCRs, measured by the vTPM and not by the TEE, are their own
 * triple, as CoRIM integrity registers (the measurement-values field made for TPM PCRs), keyed by PCR index, the bank
 * told by each digest's algorithm.
 */
public final class CorimEncoder {
  /** CBOR tags (IANA CBOR Tags registry, CoRIM's). */
  static final int TAG_UUID = 37;
  static final int TAG_SVN = 552;
  static final int TAG_BYTES = 560;
  static final int TAG_UNSIGNED_CORIM = 501;
  static final int TAG_COMID = 506;

  /** Measurement keys of upstream's profile ({@code corimgen}); not IETF-assigned. */
  static final long MKEY_SNP_MEASUREMENT = 0x1000;
  static final long MKEY_SNP_HOST_DATA = 0x1001;
  static final long MKEY_SNP_MIN_LAUNCH_TCB = 0x1003;
  static final long MKEY_TDX_MRTD = 0x2000;
  static final long MKEY_TDX_MRSEAM = 0x2001;
  static final long MKEY_TDX_RTMR0 = 0x2010;

  /** Named Information Hash Algorithm Registry ids (what CoRIM digests use). */
  static final int ALG_SHA256 = 1;
  static final int ALG_SHA384 = 7;
  static final int ALG_SHA512 = 8;
  /** SHA-1 has no Named Information id; CoRIM's {@code digest} allows the algorithm as text. */
  static final String ALG_SHA1_TEXT = "sha-1";

  static final int SNP_HOST_DATA_LENGTH = 32;
  static final int TDX_REGISTER_LENGTH = 48;

  private static final UUID NAMESPACE_URL = UUID.fromString("6ba7b811-9dad-11d1-80b4-00c04fd430c8");
  private static final UUID NAMESPACE_OID = UUID.fromString("6ba7b812-9dad-11d1-80b4-00c04fd430c8");
  /** Fixed class ids: UUIDv5(NameSpace_URL, "urn:cvm-manager:corim:class:" + snp / tdx / vtpm). */
  public static final UUID CLASS_SNP = uuidV5(NAMESPACE_URL, "urn:cvm-manager:corim:class:snp");
  public static final UUID CLASS_TDX = uuidV5(NAMESPACE_URL, "urn:cvm-manager:corim:class:tdx");
  public static final UUID CLASS_VTPM = uuidV5(NAMESPACE_URL, "urn:cvm-manager:corim:class:vtpm");

  private static final List<String> BANK_ORDER = List.of("sha1", "sha256", "sha384");
  private static final List<String> TDX_REGISTER_NAMES = List.of("MRSEAM", "RTMR0", "RTMR1", "RTMR2", "RTMR3");

  private CorimEncoder() {}

  /** The platform name upstream uses in ids: {@code snp} or {@code tdx}. */
  public static String platform(Tee tee) {
    return switch (tee) {
      case SEV_SNP -> "snp";
      case TDX -> "tdx";
      case NONE -> throw new IllegalArgumentException("a VM without a TEE has no attestation policy");
    };
  }

  /**
   * The tag-501 CoRIM of {@code input}.
   *
   * @throws IllegalArgumentException when a value does not fit its field (length, platform), with what and why
   */
  public static byte[] encode(PolicyInput input) {
    String platform = platform(input.tee());
    List<Measurement> tee = input.tee() == Tee.SEV_SNP ? snpMeasurements(input) : tdxMeasurements(input);
    byte[] instance = uuidBytes(uuidV5(NAMESPACE_OID, input.cpuModel()));
    boolean withPcrs = !input.pcrValues().isEmpty();
    byte[] comid = CborWriter.encode(w -> {
      w.map(2);
      w.key(1).map(1).key(0).text(platform + "-tag-" + input.vmId()).endMap();
      w.key(4).map(1).key(0).array(withPcrs ? 2 : 1);
      referenceTriple(w, input.tee() == Tee.SEV_SNP ? CLASS_SNP : CLASS_TDX,
          input.tee() == Tee.SEV_SNP ? "AMD" : "Intel", input.tee() == Tee.SEV_SNP ? "SEV-SNP" : "TDX", instance, tee);
      if (withPcrs) {
        referenceTriple(w, CLASS_VTPM, null, "vTPM", instance, List.of(pcrMeasurement(input.pcrValues())));
      }
      w.endArray().endMap();
      w.endMap();
    });
    return CborWriter.encode(w -> {
      w.tag(TAG_UNSIGNED_CORIM).map(2);
      w.key(0).text(platform + "-corim-" + input.vmId());
      w.key(1).array(1).tag(TAG_COMID).bytes(comid).endArray();
      w.endMap();
    });
  }

  private static List<Measurement> snpMeasurements(PolicyInput input) {
    if (!input.tdxRegisters().isEmpty()) {
      throw new IllegalArgumentException("SEV-SNP: TDX registers given");
    }
    List<Measurement> measurements = new ArrayList<>();
    measurements.add(Measurement.digest(MKEY_SNP_MEASUREMENT, "launch measurement", input.measurement(),
        input.svn().orElse(null)));
    input.hostData().ifPresent(hostData -> {
      if (hostData.length != SNP_HOST_DATA_LENGTH) {
        throw new IllegalArgumentException("SEV-SNP host data: want " + SNP_HOST_DATA_LENGTH + " bytes, got "
            + hostData.length);
      }
      measurements.add(Measurement.raw(MKEY_SNP_HOST_DATA, hostData));
    });
    // 0 accepts every launch TCB, as no constraint does; upstream writes none then either.
    if (input.minLaunchTcb() != 0) {
      measurements.add(Measurement.raw(MKEY_SNP_MIN_LAUNCH_TCB,
          ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(input.minLaunchTcb()).array()));
    }
    return measurements;
  }

  private static List<Measurement> tdxMeasurements(PolicyInput input) {
    if (input.hostData().isPresent()) {
      throw new IllegalArgumentException("TDX: host data is SEV-SNP only");
    }
    if (input.svn().isPresent()) {
      throw new IllegalArgumentException("TDX: MRTD has no SVN (the TEE TCB SVN is 16 bytes, not a scalar)");
    }
    Map<Long, Measurement> byKey = new TreeMap<>();
    byKey.put(MKEY_TDX_MRTD, Measurement.digest(MKEY_TDX_MRTD, "MRTD", input.measurement(), null));
    for (PolicyInput.TdxRegister register : input.tdxRegisters()) {
      int index = TDX_REGISTER_NAMES.indexOf(register.name());
      if (index < 0) {
        throw new IllegalArgumentException("TDX register \"" + register.name() + "\": want one of "
            + TDX_REGISTER_NAMES);
      }
      if (register.value().length != TDX_REGISTER_LENGTH) {
        throw new IllegalArgumentException("TDX " + register.name() + ": want " + TDX_REGISTER_LENGTH
            + " bytes, got " + register.value().length);
      }
      long key = index == 0 ? MKEY_TDX_MRSEAM : MKEY_TDX_RTMR0 + index - 1;
      if (byKey.put(key, Measurement.digest(key, register.name(), register.value(), null)) != null) {
        throw new IllegalArgumentException("TDX " + register.name() + " given twice");
      }
    }
    return List.copyOf(byKey.values());
  }

  private static Measurement pcrMeasurement(PcrValues pcrs) {
    Map<Integer, List<RegisterDigest>> registers = new TreeMap<>();
    for (String bank : BANK_ORDER) {
      pcrs.banks().getOrDefault(bank, Map.of()).forEach((index, value) -> registers
          .computeIfAbsent(index, i -> new ArrayList<>())
          .add(bank.equals("sha1") ? new RegisterDigest(0, ALG_SHA1_TEXT, value)
              : new RegisterDigest(algorithm(bank + " PCR " + index, value), null, value)));
    }
    return new Measurement(null, null, null, null, registers);
  }

  private static void referenceTriple(CborWriter w, UUID classId, String vendor, String model, byte[] instance,
      List<Measurement> measurements) {
    w.array(2);
    w.map(2).key(0).map(vendor == null ? 2 : 3).key(0).tag(TAG_UUID).bytes(uuidBytes(classId));
    if (vendor != null) {
      w.key(1).text(vendor);
    }
    w.key(2).text(model).endMap();
    w.key(1).tag(TAG_UUID).bytes(instance).endMap();
    w.array(measurements.size());
    measurements.forEach(m -> m.write(w));
    w.endArray().endArray();
  }

  /** The Named Information id of a digest of this length (SHA-256, SHA-384, SHA-512). */
  static int algorithm(String what, byte[] digest) {
    return switch (digest.length) {
      case 32 -> ALG_SHA256;
      case 48 -> ALG_SHA384;
      case 64 -> ALG_SHA512;
      default -> throw new IllegalArgumentException(what + ": " + digest.length
          + " bytes is no SHA-256, SHA-384 or SHA-512 digest");
    };
  }

  /** RFC 4122 §4.3 name-based UUID, SHA-1 (version 5). */
  static UUID uuidV5(UUID namespace, String name) {
    MessageDigest sha1;
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
    sha1.update(uuidBytes(namespace));
    byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    ByteBuffer bytes = ByteBuffer.wrap(hash, 0, 16);
    return new UUID(bytes.getLong(), bytes.getLong());
  }

  static byte[] uuidBytes(UUID uuid) {
    return ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits())
        .array();
  }

  /** One bank's value of a PCR: a Named Information id, or a text name where the registry has none. */
  private record RegisterDigest(int algorithm, String textAlgorithm, byte[] value) {}

  /**
   * One measurement-map: its key, and one of a digest (with an optional exact SVN), a raw value (tag 560) or
   * integrity registers.
   */
  private record Measurement(Long key, byte[] digest, Long svn, byte[] raw,
      Map<Integer, List<RegisterDigest>> registers) {
    static Measurement digest(long key, String what, byte[] value, Long svn) {
      algorithm(what, value);
      return new Measurement(key, value, svn, null, null);
    }

    static Measurement raw(long key, byte[] value) {
      return new Measurement(key, null, null, value, null);
    }

    void write(CborWriter w) {
      w.map(key == null ? 1 : 2);
      if (key != null) {
        w.key(0).integer(key);
      }
      w.key(1);
      if (digest != null) {
        w.map(svn == null ? 1 : 2);
        if (svn != null) {
          w.key(1).tag(TAG_SVN).integer(svn);
        }
        w.key(2).array(1).array(2).integer(algorithm("digest", digest)).bytes(digest).endArray().endArray();
      } else if (raw != null) {
        w.map(1).key(4).tag(TAG_BYTES).bytes(raw);
      } else {
        w.map(1).key(14).map(registers.size());
        registers.forEach((index, digests) -> {
          w.key(index).array(digests.size());
          for (RegisterDigest entry : digests) {
            w.array(2);
            if (entry.textAlgorithm() != null) {
              w.text(entry.textAlgorithm());
            } else {
              w.integer(entry.algorithm());
            }
            w.bytes(entry.value()).endArray();
          }
          w.endArray();
        });
        w.endMap();
      }
      w.endMap().endMap();
    }
  }
}
