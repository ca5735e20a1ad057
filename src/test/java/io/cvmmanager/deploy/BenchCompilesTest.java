package io.cvmmanager.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
        "bench/Bench.java");
    assertEquals(0, exit, errors.toString(StandardCharsets.UTF_8));
  }
}
