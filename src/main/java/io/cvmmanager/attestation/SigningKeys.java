package io.cvmmanager.attestation;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.KeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CoRIM signing key (MANAGER_CORIM_SIGNING_KEY) and a verifier's public key, from PEM, with the JDK only: an EC
 * P-256 private key as SEC1 ({@code EC PRIVATE KEY}, what {@code openssl ecparam -genkey} writes) or PKCS#8
 * ({@code PRIVATE KEY}, {@code openssl genpkey}), and a public key as X.509 SubjectPublicKeyInfo ({@code PUBLIC KEY}).
 * Any other curve or key type is refused with an {@link IllegalArgumentException} that says what the key is.
 */
public final class SigningKeys {
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  /** DER of the OID 1.2.840.10045.3.1.7, prime256v1 (secp256r1, P-256). */
  private static final byte[] P256_OID = {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07};
  private static final ECParameterSpec P256 = p256();
  private static final List<String> OTHER_KEY_TYPES = List.of("RSA", "Ed25519", "Ed448", "X25519", "X448", "DSA",
      "RSASSA-PSS");

  private SigningKeys() {}

  public static PublicKey readPublicKey(Path file) throws IOException {
    return publicKey(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
  }

  /** An EC P-256 private key from its PEM text, SEC1 or PKCS#8. */
  public static PrivateKey privateKey(String pem) {
    Pem block = pem(pem);
    return switch (block.type()) {
      case "EC PRIVATE KEY" -> sec1(block.der());
      case "PRIVATE KEY" -> p256(decode(new PKCS8EncodedKeySpec(block.der()), true));
      case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(
          "an encrypted private key; want an unencrypted EC P-256 key");
      case "RSA PRIVATE KEY" -> throw new IllegalArgumentException("an RSA key; want an EC P-256 key");
      default -> throw new IllegalArgumentException("a PEM \"" + block.type()
          + "\"; want \"EC PRIVATE KEY\" or \"PRIVATE KEY\" (EC P-256)");
    };
  }

  /** An EC P-256 public key from its PEM text ({@code -----BEGIN PUBLIC KEY-----}). */
  public static PublicKey publicKey(String pem) {
    Pem block = pem(pem);
    if (!block.type().equals("PUBLIC KEY")) {
      throw new IllegalArgumentException("a PEM \"" + block.type() + "\"; want \"PUBLIC KEY\" (EC P-256)");
    }
    return p256(decode(new X509EncodedKeySpec(block.der()), false));
  }

  private record Pem(String type, byte[] der) {}

  /**
   * The first key block. {@code openssl ecparam -genkey} without {@code -noout} writes an {@code EC PARAMETERS}
   * block (the curve's OID) before the key: skipped when it names P-256, refused when it names another curve.
   */
  private static Pem pem(String text) {
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      byte[] der;
      try {
        der = Base64.getMimeDecoder().decode(m.group(2));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PEM " + m.group(1) + ": bad base64: " + e.getMessage());
      }
      if (!m.group(1).equals("EC PARAMETERS")) {
        return new Pem(m.group(1), der);
      }
      // DER of an OBJECT IDENTIFIER: tag 6, length, then the OID's bytes.
      if (der.length != P256_OID.length + 2 || der[0] != 0x06
          || !Arrays.equals(Arrays.copyOfRange(der, 2, der.length), P256_OID)) {
        throw new IllegalArgumentException("EC parameters of another curve than P-256");
      }
    }
    throw new IllegalArgumentException("not a PEM key (no -----BEGIN ...----- / -----END ...----- key block)");
  }

  /** Decodes with the EC key factory, or names the key's type when it is not EC. */
  @SuppressWarnings("unchecked")
  private static <K> K decode(KeySpec spec, boolean isPrivate) {
    try {
      KeyFactory ec = KeyFactory.getInstance("EC");
      return (K) (isPrivate ? ec.generatePrivate(spec) : ec.generatePublic(spec));
    } catch (InvalidKeySpecException notEc) {
      for (String type : OTHER_KEY_TYPES) {
        try {
          KeyFactory other = KeyFactory.getInstance(type);
          Object key = isPrivate ? other.generatePrivate(spec) : other.generatePublic(spec);
          if (key != null) {
            throw new IllegalArgumentException((type.equals("DSA") ? "a " : "an ") + type + " key; want an EC P-256 key");
          }
        } catch (GeneralSecurityException e) {
          // not this type either
        }
      }
      throw new IllegalArgumentException("not an EC P-256 key: " + notEc.getMessage());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no EC key factory", e);
    }
  }

  private static <K extends ECKey> K p256(K key) {
    ECParameterSpec params = key.getParams();
    if (!params.getOrder().equals(P256.getOrder()) || !params.getCurve().equals(P256.getCurve())) {
      throw new IllegalArgumentException("an EC key on a " + params.getCurve().getField().getFieldSize()
          + "-bit curve (" + curveName(params) + "); want P-256 (prime256v1), the curve of ES256");
    }
    return key;
  }

  private static String curveName(ECParameterSpec params) {
    return switch (params.getCurve().getField().getFieldSize()) {
      case 384 -> "P-384";
      case 521 -> "P-521";
      default -> "not P-256";
    };
  }

  /**
   * SEC1 ECPrivateKey (RFC 5915): SEQUENCE { INTEGER 1, OCTET STRING key, [0] OID curve OPTIONAL, [1] public key
   * OPTIONAL }. Only a P-256 curve OID (or none) and a 32-byte key are taken.
   */
  private static PrivateKey sec1(byte[] der) {
    Der sequence = Der.read(der, 0, 0x30, "SEC1 ECPrivateKey");
    Der version = Der.read(der, sequence.contentStart(), 0x02, "SEC1 version");
    Der octets = Der.read(der, version.end(), 0x04, "SEC1 private key");
    if (octets.end() < sequence.end() && (der[octets.end()] & 0xff) == 0xa0) {
      Der parameters = Der.read(der, octets.end(), 0xa0, "SEC1 parameters");
      Der oid = Der.read(der, parameters.contentStart(), 0x06, "SEC1 curve");
      byte[] curve = Arrays.copyOfRange(der, oid.contentStart(), oid.end());
      if (!Arrays.equals(curve, P256_OID)) {
        throw new IllegalArgumentException("an EC key on curve " + oidText(curve)
            + "; want P-256 (prime256v1, 1.2.840.10045.3.1.7), the curve of ES256");
      }
    }
    if (octets.end() - octets.contentStart() != 32) {
      throw new IllegalArgumentException("an EC key of " + (octets.end() - octets.contentStart())
          + " bytes; want P-256 (32 bytes)");
    }
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(der, octets.contentStart(), octets.end()));
    try {
      return KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(s, P256));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("SEC1 EC key: " + e.getMessage());
    }
  }

  private static String oidText(byte[] oid) {
    StringBuilder text = new StringBuilder();
    long value = 0;
    for (int i = 0; i < oid.length; i++) {
      value = (value << 7) | (oid[i] & 0x7f);
      if ((oid[i] & 0x80) == 0) {
        if (text.isEmpty()) {
          text.append(Math.min(value / 40, 2)).append('.').append(value - 40 * Math.min(value / 40, 2));
        } else {
          text.append('.').append(value);
        }
        value = 0;
      }
    }
    return switch (text.toString()) {
      case "1.3.132.0.34" -> "P-384 (secp384r1, 1.3.132.0.34)";
      case "1.3.132.0.35" -> "P-521 (secp521r1, 1.3.132.0.35)";
      case "1.3.132.0.10" -> "secp256k1 (1.3.132.0.10)";
      default -> text.toString();
    };
  }

  /** One DER item at an offset: where its content starts and where it ends. */
  private record Der(int contentStart, int end) {
    static Der read(byte[] der, int at, int expectedTag, String what) {
      if (at + 2 > der.length || (der[at] & 0xff) != expectedTag) {
        throw new IllegalArgumentException(what + ": not the DER expected");
      }
      int length = der[at + 1] & 0xff;
      int start = at + 2;
      if (length > 0x80) {
        int count = length & 0x7f;
        if (count > 3 || start + count > der.length) {
          throw new IllegalArgumentException(what + ": bad DER length");
        }
        length = 0;
        for (int i = 0; i < count; i++) {
          length = (length << 8) | (der[start + i] & 0xff);
        }
        start += count;
      } else if (length == 0x80) {
        throw new IllegalArgumentException(what + ": indefinite length is not DER");
      }
      if (start + length > der.length) {
        throw new IllegalArgumentException(what + ": truncated");
      }
      return new Der(start, start + length);
    }
  }

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
      parameters.init(new ECGenParameterSpec("secp256r1"));
      return parameters.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no P-256", e);
    }
  }
}
