package io.cvmmanager.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/Bench.java is compiled by bench/run.sh only, not by the build: compiled here against the same classes, so
 * that a change of the manager's API it uses breaks the build rather than the next benchmark run.
 */
class BenchCompilesTest {
  @Test
  void theBenchmarkCompilesAgainstTheManager(@TempDir Path out) {
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    assertNotNull(compiler, "a JDK, not a JRE");
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int exit = compiler.run(null, null, errors, "-d", out.toString(), "-cp", System.getProperty("java.class.path"),
        "bench/Bench.java", "bench/Charts.java");
    assertEquals(0, exit, errors.toString(StandardCharsets.UTF_8));
  }

  /** The charts the bench draws from its CSVs: a PNG of each, headless, from rows as the bench writes them. */
  @Test
  void theChartsRenderFromTheBenchsCsvs(@TempDir Path out) throws Exception {
    theBenchmarkCompilesAgainstTheManager(out);
    System.setProperty("java.awt.headless", "true");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()},
        getClass().getClassLoader())) {
      Class<?> charts = loader.loadClass("Charts");
      Method writeCsv = charts.getDeclaredMethod("writeCsv", Path.class, String.class, List.class);
      writeCsv.setAccessible(true);
      Path latency = out.resolve("latency.csv");
      List<List<Object>> rows = new ArrayList<>();
      for (int n : List.of(1, 5, 20)) {
        rows.add(List.of("manager", "paused", n, 0, 60.0 * n));
        rows.add(List.of("raw-qemu", "paused", n, 0, 50.0 * n));
      }
      writeCsv.invoke(null, latency, "peer,mode,concurrency,run,millis", rows);
      Path resources = out.resolve("resources.csv");
      writeCsv.invoke(null, resources, "vms,threads,rss_mib", List.of(List.of(0, 23, 77), List.of(20, 25, 90)));
      for (String chart : List.of("latency", "resources")) {
        Method draw = charts.getDeclaredMethod(chart, Path.class, Path.class);
        draw.setAccessible(true);
        Path png = out.resolve(chart + ".png");
        draw.invoke(null, out.resolve(chart + ".csv"), png);
        byte[] head = Arrays.copyOf(Files.readAllBytes(png), 4);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head, chart + ".png is not a PNG");
      }
    }
  }
}
