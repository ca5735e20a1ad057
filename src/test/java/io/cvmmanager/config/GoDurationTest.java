package io.cvmmanager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        Arguments.of("-1m30s", Duration.ofSeconds(-90)));
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
  @ValueSource(strings = {"abc", "10", "", "1x", ".s", "1..5s", "-", "+", "s", "5s3", "1 s"})
  void rejectsInvalidDurations(String text) {
    assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
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
