package io.cvmmanager.attestation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.function.Function;

/**
 * The policy inputs that live in files named by the configuration: read and checked by {@code StartupChecks} (a bad
 * file stops start-up with one line naming its variable) and read again by the {@link AttestationVerticle} as it
 * starts, so the manager never runs with a file it could not use. Every failure is an
 * {@link IllegalArgumentException} whose message starts with the file's path and says what is wrong.
 */
public final class ReferenceFiles {
  /** Reads one kind of file. */
  @FunctionalInterface
  public interface Loader<T> {
    T load(Path file);
  }

  private ReferenceFiles() {}

  /** MANAGER_PCR_VALUES: the vTPM PCR reference values. */
  public static PcrValues pcrValues(Path file) {
    return parse(file, PcrValues::parse);
  }

  /** MANAGER_CORIM_SIGNING_KEY: a PEM EC P-256 private key (SEC1 or PKCS#8). */
  public static PrivateKey signingKey(Path file) {
    return parse(file, SigningKeys::privateKey);
  }

  private static <T> T parse(Path file, Function<String, T> parser) {
    String text = read(file);
    try {
      return parser.apply(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + oneLine(e.getMessage()));
    }
  }

  /** A parser's message (JSON parsers quote the input over several lines) as one line of a problem report. */
  private static String oneLine(String message) {
    return String.valueOf(message).replaceAll("\\s*\\R\\s*", " ");
  }

  static String read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + " is missing or not a regular file");
    }
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " cannot be read (" + e + ")");
    }
  }
}
