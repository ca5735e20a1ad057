package io.cvmmanager.attestation;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.List;
import java.util.Map;

/**
 * A signed CoRIM: COSE_Sign1 (RFC 9052, tag 18) with ES256, the signature the raw 64 bytes r||s that COSE wants
 * (the JDK's {@code SHA256withECDSAinP1363Format}, not DER). Protected header: {1: -7 (alg ES256), 3:
 * "application/rim+cbor" (content type), 8: corim-meta naming the signer}; the corim-meta is what veraison/corim,
 * the library upstream's verifier reads signed CoRIMs with, requires. Unprotected header empty.
 */
public final class CoseSign1 {
  static final int TAG_COSE_SIGN1 = 18;
  static final long HEADER_ALG = 1;
  static final long HEADER_CONTENT_TYPE = 3;
  static final long HEADER_CORIM_META = 8;
  static final long ALG_ES256 = -7;
  static final String CONTENT_TYPE = "application/rim+cbor";
  static final String SIGNER = "cvm-manager";
  private static final String JDK_ES256 = "SHA256withECDSAinP1363Format";

  /** The parts of a COSE_Sign1: protected header (its bytes and decoded), payload, signature. */
  public record Message(byte[] protectedBytes, Map<?, ?> protectedHeader, Map<?, ?> unprotectedHeader, byte[] payload,
      byte[] signature) {}

  private CoseSign1() {}

  /** Signs {@code payload} (the tag-501 CoRIM) with an EC P-256 key; the tag-18 COSE_Sign1. */
  public static byte[] sign(byte[] payload, PrivateKey key) {
    byte[] meta = CborWriter.encode(w -> w.map(1).key(0).map(1).key(0).text(SIGNER).endMap().endMap());
    byte[] protectedHeader = CborWriter.encode(w -> w.map(3)
        .key(HEADER_ALG).integer(ALG_ES256)
        .key(HEADER_CONTENT_TYPE).text(CONTENT_TYPE)
        .key(HEADER_CORIM_META).bytes(meta)
        .endMap());
    byte[] signature;
    try {
      Signature es256 = Signature.getInstance(JDK_ES256);
      es256.initSign(key);
      es256.update(toBeSigned(protectedHeader, payload));
      signature = es256.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
    }
    return CborWriter.encode(w -> w.tag(TAG_COSE_SIGN1).array(4)
        .bytes(protectedHeader).map(0).endMap().bytes(payload).bytes(signature)
        .endArray());
  }

  /** Whether {@code coseSign1}'s ES256 signature is valid for {@code key}; false too when it is not ES256. */
  public static boolean verify(byte[] coseSign1, PublicKey key) {
    return verify(decode(coseSign1), key);
  }

  /** As {@link #verify(byte[], PublicKey)}, for a message already decoded. */
  public static boolean verify(Message message, PublicKey key) {
    if (!Long.valueOf(ALG_ES256).equals(message.protectedHeader().get(HEADER_ALG))
        || message.signature().length != 64) {
      return false;
    }
    try {
      Signature es256 = Signature.getInstance(JDK_ES256);
      es256.initVerify(key);
      es256.update(toBeSigned(message.protectedBytes(), message.payload()));
      return es256.verify(message.signature());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Whether {@code cbor} starts as a tag-18 item does (a COSE_Sign1 rather than a bare CoRIM). */
  static boolean looksSigned(byte[] cbor) {
    return cbor.length > 0 && (cbor[0] & 0xff) == (0xc0 | TAG_COSE_SIGN1);
  }

  /** Decodes a tag-18 COSE_Sign1; {@link IllegalArgumentException} saying what is wrong when it is not one. */
  public static Message decode(byte[] coseSign1) {
    Object item = CborReader.read(coseSign1);
    if (!(item instanceof CborReader.Tagged tagged) || tagged.tag() != TAG_COSE_SIGN1) {
      throw new IllegalArgumentException("not a COSE_Sign1 (tag 18)");
    }
    if (!(tagged.value() instanceof List<?> parts) || parts.size() != 4 || !(parts.get(0) instanceof byte[] prot)
        || !(parts.get(1) instanceof Map<?, ?> unprotectedHeader) || !(parts.get(2) instanceof byte[] payload)
        || !(parts.get(3) instanceof byte[] signature)) {
      throw new IllegalArgumentException("COSE_Sign1 is not [protected bstr, unprotected map, payload bstr, "
          + "signature bstr]");
    }
    Map<?, ?> protectedHeader = prot.length == 0 ? Map.of() : asMap(CborReader.read(prot));
    return new Message(prot, protectedHeader, unprotectedHeader, payload, signature);
  }

  private static Map<?, ?> asMap(Object item) {
    if (!(item instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("COSE protected header is not a map");
    }
    return map;
  }

  /** Sig_structure = ["Signature1", body_protected, external_aad = h'', payload] (RFC 9052 §4.4). */
  private static byte[] toBeSigned(byte[] protectedHeader, byte[] payload) {
    return CborWriter.encode(w -> w.array(4).text("Signature1").bytes(protectedHeader).bytes(new byte[0])
        .bytes(payload).endArray());
  }
}
