package io.cvmmanager.monitor;

import io.vertx.core.buffer.Buffer;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A TLS ClientHello record such as a current client sends (RFC 8446 §4.1.2, compatible with TLS 1.2 servers): the
 * agent port probe's first bytes. A TLS agent answers it with a ServerHello (or an alert), which counts as the
 * guest answering; a plaintext gRPC agent sends its HTTP/2 SETTINGS without waiting for anything. Offered: TLS 1.3
 * and 1.2, AES-GCM and ChaCha20 suites (ECDHE for 1.2), x25519/P-256/P-384, the common signature schemes, ALPN
 * {@code h2} (gRPC servers refuse a handshake without it), and an x25519 key share so a TLS 1.3 server can answer
 * at once instead of asking again. The handshake is never finished: only the answer's first byte matters.
 */
final class TlsClientHello {
  private static final int HANDSHAKE_RECORD = 0x16;
  private static final int CLIENT_HELLO = 0x01;
  private static final int TLS_1_0 = 0x0301;
  private static final int TLS_1_2 = 0x0303;
  private static final int TLS_1_3 = 0x0304;
  private static final int X25519 = 0x001d;
  private static final int[] CIPHER_SUITES = {
      0x1301, 0x1302, 0x1303, // TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256
      0xc02b, 0xc02f, 0xc02c, 0xc030, // TLS_ECDHE_{ECDSA,RSA}_WITH_AES_{128,256}_GCM_SHA{256,384}
      0xcca9, 0xcca8}; // TLS_ECDHE_{ECDSA,RSA}_WITH_CHACHA20_POLY1305_SHA256
  private static final int[] GROUPS = {X25519, 0x0017, 0x0018}; // x25519, secp256r1, secp384r1
  private static final int[] SIGNATURE_SCHEMES = {
      0x0403, 0x0804, 0x0401, // ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
      0x0503, 0x0805, 0x0501, // the same with sha384
      0x0806, 0x0601, 0x0807}; // rsa_pss_rsae_sha512, rsa_pkcs1_sha512, ed25519

  private TlsClientHello() {}

  /** A fresh record: its random, session id and key share are new each time. */
  static Buffer create() {
    SecureRandom random = new SecureRandom();
    Buffer hello = Buffer.buffer()
        .appendUnsignedShort(TLS_1_2) // legacy_version
        .appendBytes(randomBytes(random, 32))
        .appendUnsignedByte((short) 32).appendBytes(randomBytes(random, 32)) // legacy_session_id (compat mode)
        .appendBuffer(vector16(shorts(CIPHER_SUITES)))
        .appendUnsignedByte((short) 1).appendUnsignedByte((short) 0) // compression: null only
        .appendBuffer(vector16(extensions()));
    Buffer handshake = Buffer.buffer().appendUnsignedByte((short) CLIENT_HELLO)
        .appendMedium(hello.length()).appendBuffer(hello);
    return Buffer.buffer().appendUnsignedByte((short) HANDSHAKE_RECORD).appendUnsignedShort(TLS_1_0)
        .appendBuffer(vector16(handshake));
  }

  private static Buffer extensions() {
    return Buffer.buffer()
        .appendBuffer(extension(0x000a, vector16(shorts(GROUPS)))) // supported_groups
        .appendBuffer(extension(0x000b, Buffer.buffer().appendUnsignedByte((short) 1)
            .appendUnsignedByte((short) 0))) // ec_point_formats: uncompressed
        .appendBuffer(extension(0x000d, vector16(shorts(SIGNATURE_SCHEMES)))) // signature_algorithms
        .appendBuffer(extension(0x0010, vector16(Buffer.buffer().appendUnsignedByte((short) 2)
            .appendString("h2")))) // application_layer_protocol_negotiation
        .appendBuffer(extension(0x002b, vector8(shorts(new int[] {TLS_1_3, TLS_1_2})))) // supported_versions
        .appendBuffer(extension(0x002d, vector8(Buffer.buffer().appendUnsignedByte((short) 1)))) // psk_dhe_ke
        .appendBuffer(extension(0x0033, vector16(Buffer.buffer().appendUnsignedShort(X25519)
            .appendBuffer(vector16(Buffer.buffer(x25519PublicKey())))))); // key_share
  }

  /** The raw 32-byte x25519 public key: the end of its X.509 SubjectPublicKeyInfo encoding. */
  private static byte[] x25519PublicKey() {
    try {
      byte[] encoded = KeyPairGenerator.getInstance("X25519").generateKeyPair().getPublic().getEncoded();
      return Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no X25519 (it has since Java 11)", e);
    }
  }

  private static Buffer extension(int type, Buffer data) {
    return Buffer.buffer().appendUnsignedShort(type).appendBuffer(vector16(data));
  }

  private static Buffer vector16(Buffer data) {
    return Buffer.buffer().appendUnsignedShort(data.length()).appendBuffer(data);
  }

  private static Buffer vector8(Buffer data) {
    return Buffer.buffer().appendUnsignedByte((short) data.length()).appendBuffer(data);
  }

  private static Buffer shorts(int[] values) {
    Buffer buffer = Buffer.buffer();
    for (int value : values) {
      buffer.appendUnsignedShort(value);
    }
    return buffer;
  }

  private static byte[] randomBytes(SecureRandom random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }
}
