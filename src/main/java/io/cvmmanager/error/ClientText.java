package io.cvmmanager.error;

/**
 * A client's value as it may appear in an error message, a log line or an event: at most {@link #MAX_CHARS}
 * characters of it, control characters escaped, and its length when it was cut. A client's status message must
 * fit the metadata limits of every gRPC client (8 KiB by default in grpc-go and grpc-java), and no value of a
 * client's may forge a log line.
 */
public final class ClientText {
  public static final int MAX_CHARS = 100;

  private ClientText() {}

  /** {@code "value"}, or {@code "first 100 characters…" (N characters)}. */
  public static String quote(String value) {
    StringBuilder out = new StringBuilder("\"");
    int shown = Math.min(value.length(), MAX_CHARS);
    appendEscaped(out, value, 0, shown);
    out.append('"');
    if (shown < value.length()) {
      out.insert(out.length() - 1, '…').append(" (").append(value.length()).append(" characters)");
    }
    return out.toString();
  }

  /** {@code text} with every C0 and C1 control character (and the Unicode line and paragraph separators) escaped. */
  public static String escapeControls(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (needsEscape(text.charAt(i))) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        appendEscaped(out, text, 0, text.length());
        return out.toString();
      }
    }
    return text;
  }

  private static void appendEscaped(StringBuilder out, String text, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (needsEscape(c)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }

  private static boolean needsEscape(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
  }
}
