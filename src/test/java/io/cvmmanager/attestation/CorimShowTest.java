package io.cvmmanager.attestation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.cli.Cvmctl;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cvmctl corim show} on signed and unsigned policies, with right and wrong keys, and on garbage. */
class CorimShowTest {
  private record Run(int exit, String out, String err) {}

  private static Run show(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] command = new String[args.length + 2];
    command[0] = "corim";
    command[1] = "show";
    System.arraycopy(args, 0, command, 2, args.length);
    int exit = Cvmctl.run(command, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Path write(Path dir, String name, byte[] bytes) throws Exception {
    return Files.write(dir.resolve(name), bytes);
  }

  private static void assertAnnotatedSnpPolicy(String out) {
    String hex = HexFormat.of().formatHex(CorimEncoderTest.MEASUREMENT);
    for (String line : new String[] {
        "501 unsigned-corim-map {",
        "corim-id (0): \"snp-corim-" + CorimEncoderTest.VM_ID + "\"",
        "506 comid << {",
        "tag-id (0): \"snp-tag-" + CorimEncoderTest.VM_ID + "\"",
        "reference-triples (0): [",
        "class-id (0): 37(uuid 69ec6b37-64eb-5315-9d7b-f774d0396449)",
        "vendor (1): \"AMD\"",
        "instance (1): 37(uuid 2c476276-0d1c-59f3-8d79-693ec3752677)",
        "mkey (0): 4096 (0x1000 snp launch measurement)",
        "svn (1): 552(3) exact svn",
        "digests (2): sha-384 " + hex,
        "mkey (0): 4097 (0x1001 host-data)",
        "raw-value (4): 560(h'" + HexFormat.of().formatHex(CorimEncoderTest.HOST_DATA) + "')",
        "= launch TCB 0x1500000000000304 (little-endian)",
        "integrity-registers (14): {",
        "pcr 7: sha-256 " + HexFormat.of().formatHex(CorimEncoderTest.PCR7_SHA256)}) {
      assertTrue(out.contains(line), "\"" + line + "\" in:\n" + out);
    }
  }

  @Test
  void unsignedPolicyIsShownAnnotatedAndSaysItIsNotSigned(@TempDir Path dir) throws Exception {
    Path file = write(dir, "policy.cbor", CorimEncoder.encode(CorimEncoderTest.snpInput()));
    Run run = show(file.toString());
    assertEquals(0, run.exit(), run.err());
    assertAnnotatedSnpPolicy(run.out());
    assertTrue(run.out().endsWith("signature: none (not signed)\n"), run.out());

    Path key = CoseSign1Test.sec1P256(dir);
    Run withKey = show(file.toString(), "--key", CoseSign1Test.publicOf(key).toString());
    assertEquals(1, withKey.exit(), "a key asks for a signature the file does not have");
    assertTrue(withKey.out().endsWith("signature: none (not signed)\n"), withKey.out());
  }

  @Test
  void signedPolicyIsCheckedWithTheKeyGiven(@TempDir Path dir) throws Exception {
    Path key = CoseSign1Test.sec1P256(dir);
    Path otherKey = CoseSign1Test.pkcs8P256(dir);
    byte[] signed = CoseSign1.sign(CorimEncoder.encode(CorimEncoderTest.snpInput()), ReferenceFiles.signingKey(key));
    Path file = write(dir, "signed.cbor", signed);

    Run unchecked = show(file.toString());
    assertEquals(0, unchecked.exit(), unchecked.err());
    assertTrue(unchecked.out().startsWith("18 COSE_Sign1 {\n"), unchecked.out());
    assertTrue(unchecked.out().contains("alg (1): -7 (ES256)"), unchecked.out());
    assertTrue(unchecked.out().contains("content-type (3): \"application/rim+cbor\""), unchecked.out());
    assertAnnotatedSnpPolicy(unchecked.out());
    assertTrue(unchecked.out().endsWith("signature: not checked (no --key)\n"), unchecked.out());

    Run valid = show(file.toString(), "--key", CoseSign1Test.publicOf(key).toString());
    assertEquals(0, valid.exit(), valid.err());
    assertTrue(valid.out().endsWith("signature: valid (ES256)\n"), valid.out());

    Run wrongKey = show(file.toString(), "--key", CoseSign1Test.publicOf(otherKey).toString());
    assertEquals(1, wrongKey.exit());
    assertTrue(wrongKey.out().endsWith("signature: INVALID\n"), wrongKey.out());

    byte[] tampered = signed.clone();
    tampered[tampered.length - 1] ^= 0x01;
    Run tamperedRun = show(write(dir, "tampered.cbor", tampered).toString(), "--key",
        CoseSign1Test.publicOf(key).toString());
    assertEquals(1, tamperedRun.exit());
    assertTrue(tamperedRun.out().endsWith("signature: INVALID\n"), tamperedRun.out());
  }

  @Test
  void garbageAndOtherCborAreErrors(@TempDir Path dir) throws Exception {
    Run garbage = show(write(dir, "garbage", "not a policy at all\n".getBytes(StandardCharsets.UTF_8)).toString());
    assertEquals(1, garbage.exit());
    assertEquals("", garbage.out());
    assertTrue(garbage.err().startsWith("error: ") && garbage.err().contains("garbage"), garbage.err());

    byte[] map = CborWriter.encode(w -> w.map(1).key(0).text("x").endMap());
    Run notCorim = show(write(dir, "map.cbor", map).toString());
    assertEquals(1, notCorim.exit());
    assertTrue(notCorim.err().contains("is not a CoRIM"), notCorim.err());

    byte[] signedMap = CoseSign1.sign(map, ReferenceFiles.signingKey(CoseSign1Test.sec1P256(dir)));
    Run signedNotCorim = show(write(dir, "signed-map.cbor", signedMap).toString());
    assertEquals(1, signedNotCorim.exit());
    assertTrue(signedNotCorim.err().contains("the COSE_Sign1 payload is not a CoRIM"), signedNotCorim.err());

    Run missing = show(dir.resolve("missing.cbor").toString());
    assertEquals(1, missing.exit());
    assertTrue(missing.err().startsWith("error: cannot read"), missing.err());

    Path policy = write(dir, "policy.cbor", CorimEncoder.encode(CorimEncoderTest.snpInput()));
    Run badKey = show(policy.toString(), "--key", policy.toString());
    assertEquals(1, badKey.exit());
    assertTrue(badKey.err().contains("not a PEM key"), badKey.err());
  }
}
