package io.cvmmanager.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The variables as set, read one at a time into the type each needs (booleans as Go's strconv reads them, QEMU
 * sizes, port ranges, Go durations, URLs, QEMU identifiers and option values, ...): a value that does not parse
 * becomes one problem line naming its variable, and a default stands in so that every other problem is found too.
 * {@link ConfigParser} assembles the configuration from these readers.
 */
final class ConfigValues {
  /** QEMU's size syntax: a number with an optional binary suffix; a bare number means MiB for -m. */
  private static final Pattern SIZE = Pattern.compile("(\\d+)([kKmMgGtT]?)[bB]?");
  private static final Pattern RANGE = Pattern.compile("(\\d+)-(\\d+)");
  private static final Set<String> TRUE_WORDS = Set.of("1", "t", "T", "TRUE", "true", "True");
  private static final Set<String> FALSE_WORDS = Set.of("0", "f", "F", "FALSE", "false", "False");

  private final Map<String, String> values;
  private final List<String> problems = new ArrayList<>();

  ConfigValues(Map<String, String> values) {
    this.values = values;
  }

  /** Every variable that was set, by name. */
  Set<String> names() {
    return values.keySet();
  }

  /** The problems found so far, one line each. */
  List<String> problems() {
    return problems;
  }

  /** An unsigned 64-bit number, decimal or 0x-hex, kept in a long's 64 bits. */
  long uint64(ConfigVariable v) {
    String value = str(v);
    boolean hex = value.startsWith("0x") || value.startsWith("0X");
    try {
      return Long.parseUnsignedLong(hex ? value.substring(2) : value, hex ? 16 : 10);
    } catch (NumberFormatException e) {
      problem(v, "\"" + value + "\" is not an unsigned 64-bit number (decimal, or hex with 0x)");
      return 0;
    }
  }

  /** A size in bytes where a bare number means bytes (file sizes), unlike QEMU's -m where it means MiB. */
  static long bytesOf(String size) {
    return size.matches("\\d+") ? Long.parseLong(size) : bytes(size);
  }

  /** A variable set to the empty string counts as unset, as in upstream's env parsing: it takes its default. */
  String str(ConfigVariable v) {
    String value = values.get(v.name());
    return value == null || value.isBlank() ? v.defaultValue() : value.trim();
  }

  boolean isSet(ConfigVariable v) {
    String value = values.get(v.name());
    return value != null && !value.isBlank();
  }

  Optional<String> optional(ConfigVariable v) {
    String value = str(v);
    return value.isEmpty() ? Optional.empty() : Optional.of(value);
  }

  void problem(ConfigVariable v, String what) {
    problems.add(v + ": " + what);
  }

  String name(ConfigVariable v) {
    String value = str(v);
    if (value.isEmpty() || !value.matches("[A-Za-z0-9_.:+-]+")) {
      problem(v, "\"" + value + "\" is not a valid QEMU identifier or value (letters, digits, _ . : + -)");
    }
    return value;
  }

  /** A value that goes inside one of QEMU's comma-separated option lists ({@code option} names it). */
  String optionValue(ConfigVariable v, String option) {
    String value = str(v);
    commaFree(v, value, option);
    return value;
  }

  void commaFree(ConfigVariable v, String value, String option) {
    if (value.contains(",")) {
      problem(v, "\"" + value + "\" has a comma, which QEMU would read as the start of another option of " + option);
    }
  }

  String host(ConfigVariable v) {
    String value = str(v);
    if (value.isEmpty() || value.contains(" ") || value.contains("/")) {
      problem(v, "\"" + value + "\" is not a host name or address");
    }
    return value;
  }

  int port(ConfigVariable v) {
    return intIn(v, 1, 65535);
  }

  int intIn(ConfigVariable v, int min, int max) {
    String value = str(v);
    try {
      long n = Long.parseLong(value);
      if (n < min || n > max) {
        problem(v, value + " is out of range " + min + "-" + max);
        return min;
      }
      return (int) n;
    } catch (NumberFormatException e) {
      problem(v, "\"" + value + "\" is not a whole number");
      return min;
    }
  }

  boolean bool(ConfigVariable v) {
    String value = str(v);
    if (TRUE_WORDS.contains(value)) {
      return true;
    }
    if (!FALSE_WORDS.contains(value)) {
      problem(v, "\"" + value + "\" is not a boolean (true or false)");
    }
    return false;
  }

  Tristate tristate(ConfigVariable v) {
    String value = str(v);
    if (value.equalsIgnoreCase("auto")) {
      return Tristate.AUTO;
    }
    if (TRUE_WORDS.contains(value)) {
      return Tristate.TRUE;
    }
    if (!FALSE_WORDS.contains(value)) {
      problem(v, "\"" + value + "\" is not one of true, false, auto");
    }
    return Tristate.FALSE;
  }

  /** QEMU's on/off switches, which it also spells true/false (upstream's IOMMU_PLATFORM default is "true"). */
  String onOff(ConfigVariable v) {
    String value = str(v);
    if (!Set.of("on", "off", "true", "false", "yes", "no").contains(value)) {
      problem(v, "\"" + value + "\" is not on or off");
    }
    return value;
  }

  /** QEMU's OnOffAuto properties (disable-legacy) take only these three words. */
  String onOffAuto(ConfigVariable v) {
    String value = str(v);
    if (!Set.of("on", "off", "auto").contains(value)) {
      problem(v, "\"" + value + "\" is not on, off or auto");
    }
    return value;
  }

  String size(ConfigVariable v) {
    String value = str(v);
    Matcher m = SIZE.matcher(value);
    if (!m.matches() || bytes(value) <= 0) {
      problem(v, "\"" + value + "\" is not a size like 2048M or 30G");
      return null;
    }
    return value;
  }

  /** Bytes of a size that matched {@link #SIZE}; a bare number is MiB, as for QEMU's -m. */
  static long bytes(String size) {
    Matcher m = SIZE.matcher(size);
    if (!m.matches()) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
    int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
      case "K" -> 10;
      case "G" -> 30;
      case "T" -> 40;
      default -> 20;
    };
    return n > (Long.MAX_VALUE >> shift) ? -1 : n << shift;
  }

  PortRange range(ConfigVariable v) {
    String value = str(v);
    Matcher m = RANGE.matcher(value);
    if (!m.matches()) {
      problem(v, "\"" + value + "\" is not a port range like 6100-6200");
      return new PortRange(1, 1);
    }
    int first;
    int last;
    try {
      first = Integer.parseInt(m.group(1));
      last = Integer.parseInt(m.group(2));
    } catch (NumberFormatException e) {
      problem(v, "\"" + value + "\" is not a port range like 6100-6200");
      return new PortRange(1, 1);
    }
    if (first < 1 || last > 65535) {
      problem(v, value + " goes outside 1-65535");
      return new PortRange(1, 1);
    }
    if (first > last) {
      problem(v, value + " is inverted (first port after last)");
      return new PortRange(1, 1);
    }
    return new PortRange(first, last);
  }

  Duration positiveDuration(ConfigVariable v) {
    int before = problems.size();
    Duration d = nonNegativeDuration(v);
    if (d.isZero() && problems.size() == before) {
      problem(v, "must be more than zero");
    }
    return d;
  }

  Duration nonNegativeDuration(ConfigVariable v) {
    String value = str(v);
    try {
      Duration d = GoDuration.parse(value);
      if (d.isNegative()) {
        problem(v, "\"" + value + "\" is negative");
        return Duration.ZERO;
      }
      return d;
    } catch (IllegalArgumentException e) {
      problem(v, e.getMessage() + " (Go duration syntax, e.g. 10s, 1m30s)");
      return Duration.ZERO;
    }
  }

  String url(ConfigVariable v) {
    String value = str(v);
    if (!value.matches("https?://[^\\s]+")) {
      problem(v, "\"" + value + "\" is not an http(s) URL");
    }
    return value;
  }

  double ratio(ConfigVariable v) {
    String value = str(v);
    try {
      double r = Double.parseDouble(value);
      if (r >= 0 && r <= 1) {
        return r;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problem(v, "\"" + value + "\" is not a ratio between 0 and 1");
    return 1.0;
  }

  /** A ratio of at least {@code min} (an overcommit factor: 1.0 is none). */
  double factor(ConfigVariable v, double min, double max) {
    String value = str(v);
    try {
      double f = Double.parseDouble(value);
      if (f >= min && f <= max) {
        return f;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problem(v, "\"" + value + "\" is not a number from " + min + " to " + max);
    return min;
  }
}
