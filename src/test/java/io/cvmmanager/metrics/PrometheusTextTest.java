package io.cvmmanager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checker the HTTP tests rely on accepts the format and refuses what breaks it. */
class PrometheusTextTest {
  @Test
  void readsSamplesWithLabelsEscapesAndSpecialValues() {
    PrometheusText text = PrometheusText.parse("""
        # HELP a_total Things, "quoted" \\\\ too
        # TYPE a_total counter
        a_total{k="v\\"x",z="1"} 3.0
        a_total{k="w"} 1e3 1700000000000
        # TYPE h histogram
        h_bucket{le="+Inf"} 2
        h_sum 0.5
        h_count 2
        g NaN
        i -Inf
        """);
    assertEquals(3.0, text.value("a_total", Map.of("z", "1", "k", "v\"x")));
    assertEquals(1000.0, text.value("a_total", Map.of("k", "w")));
    assertEquals(2.0, text.value("h_bucket", Map.of("le", "+Inf")));
    assertEquals("histogram", text.type("h"));
    assertEquals(Double.NEGATIVE_INFINITY, text.value("i"));
  }

  @Test
  void refusesWhatIsNotTheFormat() {
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("a{k=v} 1\n"));
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("a 1 2 3\n"));
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("a-b 1\n"));
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("# TYPE a counterish\na 1\n"));
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("a 1\n# TYPE a counter\n"));
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("a 1\na 2\n"));
    assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n"));
  }
}
