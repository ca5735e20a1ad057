package io.cvmmanager.metrics;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * A double as Go's Prometheus client writes a sample value in the text format (expfmt's {@code writeFloat}):
 * {@code 1}, {@code 0} and {@code -1} as such, {@code NaN}, {@code +Inf}, {@code -Inf}, anything else as
 * {@code strconv.FormatFloat(f, 'g', -1, 64)}: the shortest digits that read back as the same double, in plain
 * notation for a decimal exponent from -4 to 5 and as {@code d.ddde±XX} outside it ({@code 2.5e-05},
 * {@code 1e+06}). Java's {@code Double.toString} differs ({@code 1.0}, {@code 2.5E-5}).
 */
final class GoFloat {
  /** Go's {@code 'g'} format with the shortest precision switches to the exponent form at 10^6 (strconv/ftoa.go). */
  private static final int PLAIN_EXPONENT_LIMIT = 6;
  private static final int PLAIN_EXPONENT_FLOOR = -4;
  /** Enough significant digits for every double to read back as itself. */
  private static final int MAX_DIGITS = 17;

  private GoFloat() {}

  static String format(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    BigDecimal digits = shortest(value);
    int exponent = digits.precision() - digits.scale() - 1;
    if (exponent < PLAIN_EXPONENT_FLOOR || exponent >= PLAIN_EXPONENT_LIMIT) {
      return exponentForm(digits, exponent);
    }
    return digits.toPlainString();
  }

  /** The fewest significant digits that read back as {@code value}, the nearest such if several: Go's shortest. */
  private static BigDecimal shortest(double value) {
    BigDecimal exact = new BigDecimal(value);
    for (int precision = 1; precision < MAX_DIGITS; precision++) {
      BigDecimal rounded = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
      if (rounded.doubleValue() == value) {
        return rounded.stripTrailingZeros();
      }
    }
    return exact.round(new MathContext(MAX_DIGITS, RoundingMode.HALF_EVEN)).stripTrailingZeros();
  }

  /** {@code -d.ddde±XX}, the exponent of at least two digits, as Go's {@code fmtE}. */
  private static String exponentForm(BigDecimal digits, int exponent) {
    String significand = digits.unscaledValue().abs().toString();
    StringBuilder text = new StringBuilder();
    if (digits.signum() < 0) {
      text.append('-');
    }
    text.append(significand.charAt(0));
    if (significand.length() > 1) {
      text.append('.').append(significand, 1, significand.length());
    }
    text.append('e').append(exponent < 0 ? '-' : '+');
    int magnitude = Math.abs(exponent);
    if (magnitude < 10) {
      text.append('0');
    }
    return text.append(magnitude).toString();
  }
}
