package io.cvmmanager.attestation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Signing a CoRIM, checked by openssl on the Sig_structure cbor2 rebuilds; reading keys made by openssl. */
class CoseSign1Test {
  /** Writes {@code <name>.pem} (private, as openssl made it) and {@code <name>.pub.pem} in {@code dir}. */
  static Path opensslKey(Path dir, String name, String... genCommand) throws Exception {
    String[] command = new String[genCommand.length + 2];
    System.arraycopy(genCommand, 0, command, 0, genCommand.length);
    command[genCommand.length] = "-out";
    command[genCommand.length + 1] = name + ".pem";
    IndependentCbor.run(dir, command);
    IndependentCbor.run(dir, "openssl", "pkey", "-in", name + ".pem", "-pubout", "-out", name + ".pub.pem");
    return dir.resolve(name + ".pem");
  }

  static Path sec1P256(Path dir) throws Exception {
    return opensslKey(dir, "sec1", "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout");
  }

  static Path pkcs8P256(Path dir) throws Exception {
    return opensslKey(dir, "pkcs8", "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
        "ec_paramgen_curve:P-256");
  }

  static Path publicOf(Path privateKey) {
    return privateKey.resolveSibling(privateKey.getFileName().toString().replace(".pem", ".pub.pem"));
  }

  private static JsonObject opensslVerdict(byte[] cose, Path publicKey, Path dir) throws Exception {
    Path file = Files.createTempFile(dir, "signed", ".cbor");
    Files.write(file, cose);
    return new JsonObject(IndependentCbor.run(dir, "/usr/bin/python3", IndependentCbor.script("cose_verify.py"),
        file.toString(), publicKey.toString(), dir.toString()));
  }

  private static void signsSoOpensslVerifies(Path key, Path dir) throws Exception {
    byte[] corim = CorimEncoder.encode(CorimEncoderTest.snpInput());
    PrivateKey privateKey = ReferenceFiles.signingKey(key);
    byte[] cose = CoseSign1.sign(corim, privateKey);

    JsonObject verdict = opensslVerdict(cose, publicOf(key), dir);
    assertEquals(0, verdict.getInteger("openssl_exit"), verdict.encode());
    assertEquals("Verified OK", verdict.getString("openssl"));
    assertEquals(-7, verdict.getInteger("alg"));
    assertEquals("application/rim+cbor", verdict.getString("content_type"));
    assertEquals(0, verdict.getInteger("unprotected"));
    assertEquals(64, verdict.getInteger("signature_length"), "raw r||s");
    assertEquals(501, verdict.getInteger("payload_tag"));

    JsonObject dump = IndependentCbor.dump(cose, dir);
    assertEquals(true, dump.getBoolean("canonical"));
    assertEquals(18, dump.getJsonObject("item").getInteger("tag"));

    PublicKey publicKey = SigningKeys.readPublicKey(publicOf(key));
    assertTrue(CoseSign1.verify(cose, publicKey));
    assertEquals(java.util.HexFormat.of().formatHex(corim),
        java.util.HexFormat.of().formatHex(CoseSign1.decode(cose).payload()));
  }

  @Test
  void signsWithSec1KeySoOpensslVerifies(@TempDir Path dir) throws Exception {
    signsSoOpensslVerifies(sec1P256(dir), dir);
  }

  @Test
  void takesAKeyWrittenWithItsEcParametersBlock(@TempDir Path dir) throws Exception {
    // Without -noout, openssl writes "EC PARAMETERS" (the curve) before "EC PRIVATE KEY".
    Path key = opensslKey(dir, "with-params", "openssl", "ecparam", "-name", "prime256v1", "-genkey");
    assertTrue(Files.readString(key).startsWith("-----BEGIN EC PARAMETERS-----"), Files.readString(key));
    signsSoOpensslVerifies(key, dir);
    Path p384 = opensslKey(dir, "p384-with-params", "openssl", "ecparam", "-name", "secp384r1", "-genkey");
    assertRefused("EC parameters of another curve than P-256", p384, true);
  }

  @Test
  void signsWithPkcs8KeySoOpensslVerifies(@TempDir Path dir) throws Exception {
    signsSoOpensslVerifies(pkcs8P256(dir), dir);
  }

  @Test
  void tamperedPayloadOrOtherKeyFailsVerification(@TempDir Path dir) throws Exception {
    Path key = sec1P256(dir);
    Path other = pkcs8P256(dir);
    byte[] cose = CoseSign1.sign(CorimEncoder.encode(CorimEncoderTest.snpInput()), ReferenceFiles.signingKey(key));
    byte[] tampered = cose.clone();
    int inPayload = cose.length - 66 - 20; // the signature bstr (2 + 64 bytes) ends the message; before it, payload
    tampered[inPayload] ^= 0x01;

    PublicKey publicKey = SigningKeys.readPublicKey(publicOf(key));
    assertFalse(CoseSign1.verify(tampered, publicKey));
    assertFalse(CoseSign1.verify(cose, SigningKeys.readPublicKey(publicOf(other))));
    JsonObject verdict = opensslVerdict(tampered, publicOf(key), dir);
    assertEquals(1, verdict.getInteger("openssl_exit"), "openssl agrees: " + verdict.encode());
    assertTrue(verdict.getString("openssl").contains("Verification failure"), verdict.getString("openssl"));
  }

  @Test
  void refusesOtherCurvesAndKeyTypes(@TempDir Path dir) throws Exception {
    Path p384Sec1 = opensslKey(dir, "p384", "openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout");
    Path p384Pkcs8 = opensslKey(dir, "p384-pkcs8", "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
        "ec_paramgen_curve:P-384");
    Path rsa = opensslKey(dir, "rsa", "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048");
    Path ed25519 = opensslKey(dir, "ed25519", "openssl", "genpkey", "-algorithm", "ed25519");

    assertRefused("an EC key on curve P-384 (secp384r1, 1.3.132.0.34); want P-256", p384Sec1, true);
    assertRefused("an EC key on a 384-bit curve (P-384); want P-256", p384Pkcs8, true);
    assertRefused("an EC key on a 384-bit curve (P-384); want P-256", publicOf(p384Sec1), false);
    assertRefused("an RSA key; want an EC P-256 key", rsa, true);
    assertRefused("an RSA key; want an EC P-256 key", publicOf(rsa), false);
    assertRefused("an Ed25519 key; want an EC P-256 key", ed25519, true);
    Files.writeString(dir.resolve("garbage.pem"), "not a key\n");
    assertRefused("not a PEM key", dir.resolve("garbage.pem"), true);
    assertRefused("a PEM \"PRIVATE KEY\"; want \"PUBLIC KEY\"", pkcs8P256(dir), false);
  }

  private static void assertRefused(String message, Path key, boolean isPrivate) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> {
          if (isPrivate) {
            SigningKeys.privateKey(Files.readString(key, StandardCharsets.ISO_8859_1));
          } else {
            SigningKeys.readPublicKey(key);
          }
        });
    assertTrue(e.getMessage().startsWith(message), key.getFileName() + ": " + e.getMessage());
  }
}
