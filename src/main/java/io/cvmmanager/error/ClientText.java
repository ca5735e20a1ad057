package io.cvmmanager.error;

import io.cvmmanager.logging.ControlCharacters;

/**
 * A client's value as it may appear in an error message, a log line or an event: at most {@link #MAX_CHARS}
 * characters of it, control characters escaped, and its length when it was cut. A client's status message must
 * fit the metadata limits of every gRPC client (8 KiB by default in grpc-go and grpc-java).
 */
public final class ClientText {
  public static final int MAX_CHARS = 100;

  private ClientText() {}

  /** {@code "value"}, or {@code "first 100 characters…" (N characters)}. */
  public static String quote(String value) {
    if (value.length() <= MAX_CHARS) {
      return "\"" + ControlCharacters.escape(value) + "\"";
    }
    return "\"" + ControlCharacters.escape(value.substring(0, MAX_CHARS)) + "…\" (" + value.length() + " characters)";
  }
}
