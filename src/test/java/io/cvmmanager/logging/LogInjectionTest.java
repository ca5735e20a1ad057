package io.cvmmanager.logging;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import io.cvmmanager.config.ManagerConfig;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.MDC;

/**
 * A client's value that holds line breaks and other controls, logged through logback.xml as the jar configures it
 * (then {@link Logging#configure}) onto a captured stderr: in either format the event stays one line.
 */
class LogInjectionTest {
  private static final String FAKE_LINE = "2026-01-01T00:00:00.000Z INFO  GrpcApiVerticle vm 4b0f: running";
  private static final String HOSTILE = "1x\n" + FAKE_LINE + "\r\u0000\u001b[2J\u0085\u2028\u2029end";
  private static final String ESCAPED = "1x\\n" + FAKE_LINE + "\\r\\u0000\\u001b[2J\\u0085\\u2028\\u2029end";

  private static String logged(ManagerConfig.LogFormat format, Consumer<Logger> log) throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(captured, true, UTF_8));
    try {
      LoggerContext context = new LoggerContext();
      context.setMDCAdapter(MDC.getMDCAdapter());
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(Logging.class.getResource("/logback.xml"));
      Logging.configure(context, ManagerConfig.LogLevel.INFO, format);
      log.accept(context.getLogger("io.cvmmanager.launcher.VmLauncherVerticle"));
      context.stop();
    } finally {
      System.setErr(stderr);
    }
    return captured.toString(UTF_8);
  }

  private static void assertOneLine(String output) {
    assertTrue(output.endsWith("\n") && output.indexOf('\n') == output.length() - 1, output);
    for (char c : output.substring(0, output.length() - 1).toCharArray()) {
      assertFalse(ControlCharacters.isControl(c), String.format("raw U+%04X in %s", (int) c, output));
    }
  }

  private static void withMdc(Logger log) {
    MDC.put("vm", HOSTILE);
    try {
      log.atWarn().addKeyValue("ttl", HOSTILE).log("vm {}: invalid ttl {}", "4b0f", HOSTILE);
    } finally {
      MDC.remove("vm");
    }
  }

  @Test
  void textFormatEscapesControlsInTheMessageMdcAndValues() throws Exception {
    String output = logged(ManagerConfig.LogFormat.TEXT, LogInjectionTest::withMdc);
    assertOneLine(output);
    assertTrue(output.contains("vm 4b0f: invalid ttl " + ESCAPED), output);
    assertTrue(output.contains("vm=" + ESCAPED) && output.contains("ttl=\"" + ESCAPED + "\""), output);
  }

  @Test
  void textFormatEscapesControlsInExceptionMessagesAndKeepsTheStackTrace() throws Exception {
    IllegalStateException error = new IllegalStateException("cause " + HOSTILE);
    error.addSuppressed(new RuntimeException("suppressed " + HOSTILE));
    String output = logged(ManagerConfig.LogFormat.TEXT,
        log -> log.warn("create failed", new IllegalArgumentException("invalid duration " + HOSTILE, error)));
    List<String> lines = output.lines().toList();
    assertEquals(List.of(), lines.stream().filter(l -> l.startsWith(FAKE_LINE)).toList(), output);
    assertTrue(lines.get(1).equals("java.lang.IllegalArgumentException: invalid duration " + ESCAPED), output);
    assertTrue(lines.contains("Caused by: java.lang.IllegalStateException: cause " + ESCAPED), output);
    assertTrue(lines.contains("\tSuppressed: java.lang.RuntimeException: suppressed " + ESCAPED), output);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("\tat io.cvmmanager.logging.LogInjectionTest")), output);
  }

  @Test
  void jsonFormatEscapesEveryControlAndKeepsTheValue() throws Exception {
    String output = logged(ManagerConfig.LogFormat.JSON, LogInjectionTest::withMdc);
    assertOneLine(output);
    JsonObject json = new JsonObject(output);
    assertEquals("vm 4b0f: invalid ttl " + HOSTILE, json.getString("msg"));
    assertEquals(HOSTILE, json.getString("vm"));
    assertEquals(HOSTILE, json.getString("ttl"));
  }
}
