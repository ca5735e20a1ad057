package io.cvmmanager.logging;

/**
 * The characters no log line carries raw, in either format: C0 controls (CR and LF would end the line early and let
 * a client's value forge the next one; NUL and ESC confuse readers and terminals), DEL, the C1 controls (NEL breaks
 * lines for some readers) and U+2028/U+2029 (line and paragraph separators).
 */
public final class ControlCharacters {
  private ControlCharacters() {}

  public static boolean isControl(int c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
  }

  /** {@code text} with each control character written as {@code \n}, {@code \r}, {@code \t} or {@code \}{@code uXXXX}. */
  public static String escape(String text) {
    int first = 0;
    while (first < text.length() && !isControl(text.charAt(first))) {
      first++;
    }
    if (first == text.length()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char c = text.charAt(i);
      out.append(isControl(c) ? escape(c) : String.valueOf(c));
    }
    return out.toString();
  }

  static String escape(char c) {
    return switch (c) {
      case '\n' -> "\\n";
      case '\r' -> "\\r";
      case '\t' -> "\\t";
      default -> String.format("\\u%04x", (int) c);
    };
  }
}
