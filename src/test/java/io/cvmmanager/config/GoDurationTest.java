package io.cvmmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.error.ClientText;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

  static Stream<Arguments> validForms() {
    return Stream.of(
        Arguments.of("1h0m0s", Duration.ofHours(1)),
        Arguments.of("90s", Duration.ofSeconds(90)),
        Arguments.of("1.5h", Duration.ofMinutes(90)),
        Arguments.of("300ms", Duration.ofMillis(300)),
        Arguments.of("0", Duration.ZERO),
        Arguments.of("1h30m", Duration.ofMinutes(90)),
        Arguments.of("2us", Duration.ofNanos(2_000)),
        Arguments.of("2\u00b5s", Duration.ofNanos(2_000)),
        Arguments.of("15ns", Duration.ofNanos(15)),
        Arguments.of("+10s", Duration.ofSeconds(10)),
        Arguments.of("-5s", Duration.ofSeconds(-5)),
        Arguments.of("-1m30s", Duration.ofSeconds(-90)),
        // From Go's own table (time_test.go, parseDurationTests).
        Arguments.of("-0", Duration.ZERO),
        Arguments.of("5.s", Duration.ofSeconds(5)),
        Arguments.of(".5s", Duration.ofMillis(500)),
        Arguments.of("1.0040s", Duration.ofMillis(1004)),
        Arguments.of("12\u03bcs", Duration.ofNanos(12_000)),
        Arguments.of("10.5s4m", Duration.ofMillis(250_500)),
        Arguments.of("1h2m3s4ms5us6ns", Duration.ofNanos(3_723_004_005_006L)),
        Arguments.of("9007199254740993ns", Duration.ofNanos((1L << 53) + 1)),
        Arguments.of("0.3333333333333333333h", Duration.ofMinutes(20)),
        Arguments.of("0.100000000000000000000h", Duration.ofMinutes(6)),
        Arguments.of("0.830103483285477580700h", Duration.ofNanos(2_988_372_539_827L)),
        Arguments.of("9223372036854775807ns", Duration.ofNanos(Long.MAX_VALUE)),
        Arguments.of("9223372036854775.807us", Duration.ofNanos(Long.MAX_VALUE)),
        Arguments.of("9223372036s854ms775us807ns", Duration.ofNanos(Long.MAX_VALUE)),
        Arguments.of("-9223372036854775808ns", Duration.ofNanos(Long.MIN_VALUE)),
        Arguments.of("-9223372036854775.808us", Duration.ofNanos(Long.MIN_VALUE)),
        Arguments.of("-2562047h47m16.854775808s", Duration.ofNanos(Long.MIN_VALUE)),
        Arguments.of("0".repeat(GoDuration.MAX_LENGTH - 2) + "1s", Duration.ofSeconds(1)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validForms")
  void parsesGoDurationSyntax(String text, Duration expected) {
    assertEquals(expected, GoDuration.parse(text));
  }

  @Test
  void minusSignMakesTheDurationNegative() {
    assertTrue(GoDuration.parse("-5s").isNegative());
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"abc", "10", "", "1x", ".s", "1..5s", "-", "+", "s", "5s3", "1 s", ".", "-.", "+.s",
      "1d", "\u0085\u0085", "\ufffd", "-+1s", "1s "})
  void rejectsInvalidDurations(String text) {
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
  }

  /** Go's time.ParseDuration takes '0'..'9' only; Character.isDigit would also read these as 1 h. */
  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"\u0661h", "\uff11h", "1\u0661h", "\u0967s", "1.\u0661h"})
  void rejectsDigitsThatAreNotAscii(String text) {
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"9223372036854775808ns", "9223372036854775810ns", "-9223372036854775809ns",
      "9223372036854776us", "3000000h", "9223372036854775.808us", "9223372036854ms775us808ns",
      "99999999999999999999s", "9223372036854775808ns9223372036854775808ns",
      "-9223372036854775808ns9223372036854775808ns", "2562048h"})
  void rejectsOverflow(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
    assertTrue(e.getMessage().startsWith("invalid duration"), e.getMessage());
  }

  @Test
  void refusesTextOverTheLimitBeforeParsingIt() {
    String huge = "9".repeat(2_000_000) + "ns";
    IllegalArgumentException e = assertTimeoutPreemptively(Duration.ofSeconds(1),
        () -> assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(huge)));
    assertTrue(e.getMessage().contains("2000002 characters") && e.getMessage().contains("longer than 64"),
        e.getMessage());
    assertTrue(e.getMessage().length() < 200, e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse("0".repeat(GoDuration.MAX_LENGTH) + "s"));
  }

  @Test
  void quotesLongTextByItsStartAndLength() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> GoDuration.parse("7".repeat(10_000)));
    assertTrue(refused.getMessage().contains("\"" + "7".repeat(ClientText.MAX_CHARS) + "…\" (10000 characters)"),
        refused.getMessage());
  }

  @Test
  void rejectsNull() {
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(null));
  }

  @Test
  void numberWithoutUnitSaysTheUnitIsMissing() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoDuration.parse("10"));
    assertTrue(e.getMessage().contains("missing unit"), e.getMessage());
  }

  @Test
  void unknownUnitIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoDuration.parse("1x"));
    assertTrue(e.getMessage().contains("\"x\""), e.getMessage());
  }
}
