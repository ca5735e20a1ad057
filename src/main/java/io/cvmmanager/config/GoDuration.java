package io.cvmmanager.config;

import io.cvmmanager.error.ClientText;
import java.time.Duration;
import java.util.Map;

/**
 * Go's {@code time.ParseDuration} syntax, which upstream's clients send (TTL) and upstream's env files use:
 * an optional sign, then one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h), e.g. {@code 1h0m0s},
 * {@code 1.5h}, {@code 300ms}. A bare {@code 0} is zero; any other number without a unit is an error, as in Go.
 *
 * <p>The steps are Go's own ({@code time/format.go}): ASCII digits only, integers in unsigned 64-bit arithmetic
 * with overflow an error, fractions scaled in float64 exactly as Go does, so both sides agree on every nanosecond.
 * One pass, constant work per character. Text over {@link #MAX_LENGTH} characters is refused before any parsing:
 * a TTL comes from clients, and no real duration needs more.
 */
public final class GoDuration {
  public static final int MAX_LENGTH = 64;
  private static final Map<String, Long> NANOS_PER_UNIT = Map.of(
      "ns", 1L, "us", 1_000L, "\u00b5s", 1_000L, "\u03bcs", 1_000L, "ms", 1_000_000L,
      "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);
  /** 1<<63 read as unsigned: the largest magnitude Go allows (as a negative duration). */
  private static final long TWO_POW_63 = Long.MIN_VALUE;
  private static final long TWO_POW_63_BY_10 = Long.divideUnsigned(TWO_POW_63, 10);

  private final String text;
  private int at;

  private GoDuration(String text, int at) {
    this.text = text;
    this.at = at;
  }

  public static Duration parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("empty duration");
    }
    if (text.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("duration " + ClientText.quote(text) + " is longer than " + MAX_LENGTH
          + " characters");
    }
    boolean negative = text.charAt(0) == '-';
    int start = negative || text.charAt(0) == '+' ? 1 : 0;
    if (text.length() - start == 1 && text.charAt(start) == '0') {
      return Duration.ZERO;
    }
    if (start == text.length()) {
      throw invalid(text);
    }
    long nanos = new GoDuration(text, start).unsignedNanos();
    if (negative) {
      return Duration.ofNanos(-nanos);
    }
    if (nanos < 0) {
      throw invalid(text);
    }
    return Duration.ofNanos(nanos);
  }

  /** The sum of every number × unit from {@link #at} on, as an unsigned 64-bit value at most 1<<63. */
  private long unsignedNanos() {
    long total = 0;
    while (at < text.length()) {
      long term = term();
      // Go adds unchecked here, so 1<<63 + 1<<63 wraps to 0 and is accepted; an overflow is an error for us.
      if (Long.compareUnsigned(term, TWO_POW_63 - total) > 0) {
        throw invalid(text);
      }
      total += term;
    }
    return total;
  }

  /** One {@code [0-9]*(\.[0-9]*)?unit}, in nanoseconds (unsigned, at most 1<<63). */
  private long term() {
    if (!isDigit(text.charAt(at)) && text.charAt(at) != '.') {
      throw invalid(text);
    }
    int integerStart = at;
    long whole = leadingInt();
    boolean hasWhole = at > integerStart;
    long fraction = 0;
    double scale = 1;
    boolean hasFraction = false;
    if (at < text.length() && text.charAt(at) == '.') {
      at++;
      int fractionStart = at;
      boolean overflow = false;
      for (; at < text.length() && isDigit(text.charAt(at)); at++) {
        // Past 63 bits Go stops taking digits (precision, not an error).
        if (overflow || Long.compareUnsigned(fraction, Long.MAX_VALUE / 10) > 0) {
          overflow = true;
          continue;
        }
        long next = fraction * 10 + (text.charAt(at) - '0');
        if (Long.compareUnsigned(next, TWO_POW_63) > 0) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      hasFraction = at > fractionStart;
    }
    if (!hasWhole && !hasFraction) {
      throw invalid(text);
    }
    long perUnit = unit();
    if (Long.compareUnsigned(whole, Long.divideUnsigned(TWO_POW_63, perUnit)) > 0) {
      throw invalid(text);
    }
    long nanos = whole * perUnit;
    if (fraction != 0) {
      nanos += (long) (unsignedToDouble(fraction) * ((double) perUnit / scale));
      if (Long.compareUnsigned(nanos, TWO_POW_63) > 0) {
        throw invalid(text);
      }
    }
    return nanos;
  }

  /** The leading {@code [0-9]*} as unsigned, more than 1<<63 an error (Go's leadingInt). */
  private long leadingInt() {
    long value = 0;
    for (; at < text.length() && isDigit(text.charAt(at)); at++) {
      if (Long.compareUnsigned(value, TWO_POW_63_BY_10) > 0) {
        throw invalid(text);
      }
      value = value * 10 + (text.charAt(at) - '0');
      if (Long.compareUnsigned(value, TWO_POW_63) > 0) {
        throw invalid(text);
      }
    }
    return value;
  }

  /** Everything up to the next digit or dot names the unit. */
  private long unit() {
    int unitStart = at;
    while (at < text.length() && !isDigit(text.charAt(at)) && text.charAt(at) != '.') {
      at++;
    }
    if (at == unitStart) {
      throw new IllegalArgumentException("missing unit in duration " + ClientText.quote(text));
    }
    String unit = text.substring(unitStart, at);
    Long perUnit = NANOS_PER_UNIT.get(unit);
    if (perUnit == null) {
      throw new IllegalArgumentException("unknown unit " + ClientText.quote(unit) + " in duration " + ClientText.quote(text));
    }
    return perUnit;
  }

  /** Go's {@code '0' <= c && c <= '9'}: {@link Character#isDigit} would take ١ or １ too. */
  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** Go's float64(uint64): rounded to nearest (the odd bit kept so that halving does not round twice). */
  private static double unsignedToDouble(long value) {
    return value >= 0 ? value : ((value >>> 1) | (value & 1)) * 2.0;
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid duration " + ClientText.quote(text));
  }
}
