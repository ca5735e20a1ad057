package io.cvmmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Sample values as Go's client prints them: strconv.FormatFloat(f, 'g', -1, 64) and expfmt's special cases. */
class GoFloatTest {
  @ParameterizedTest
  @CsvSource({
      "0, 0",
      "-0.0, 0",
      "1, 1",
      "-1, -1",
      "2, 2",
      "0.5, 0.5",
      "0.04, 0.04",
      "0.0001, 0.0001",
      "0.00001, 1e-05",
      "0.0000125, 1.25e-05",
      "123456, 123456",
      "999999, 999999",
      "1000000, 1e+06",
      "1234567, 1.234567e+06",
      "-2.5, -2.5",
      "0.30000000000000004, 0.30000000000000004",
      "5e-324, 5e-324",
      "1.7976931348623157e308, 1.7976931348623157e+308",
      "1e21, 1e+21",
      "NaN, NaN",
      "Infinity, +Inf",
      "-Infinity, -Inf"})
  void formatsAsGo(double value, String go) {
    assertEquals(go, GoFloat.format(value));
  }
}
