package io.cvmmanager.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/** A log event is one JSON line, its MDC and key-value pairs flattened into it. */
class JsonLineEncoderTest {
  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  private String encode(LoggingEvent event) {
    JsonLineEncoder encoder = new JsonLineEncoder();
    encoder.setContext(context);
    encoder.start();
    return new String(encoder.encode(event), StandardCharsets.UTF_8);
  }

  @Test
  void anEventIsOneJsonLineWithContextFieldsOnTop() {
    LoggingEvent event = new LoggingEvent("x", context.getLogger("io.cvmmanager.launcher.VmLauncherVerticle"),
        Level.INFO, "vm {}: running, \"paused\"\nnext", null, new Object[] {"4b0f"});
    event.setTimeStamp(Instant.parse("2026-01-02T03:04:05.678Z").toEpochMilli());
    event.setMDCPropertyMap(Map.of("vm", "4b0f", "msg", "clash"));
    event.addKeyValuePair(new KeyValuePair("port", 6100));
    event.addKeyValuePair(new KeyValuePair("paused", true));

    String line = encode(event);

    assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, line);
    JsonObject json = new JsonObject(line);
    assertEquals("2026-01-02T03:04:05.678Z", json.getString("time"));
    assertEquals("INFO", json.getString("level"));
    assertEquals("io.cvmmanager.launcher.VmLauncherVerticle", json.getString("logger"));
    assertEquals("vm 4b0f: running, \"paused\"\nnext", json.getString("msg"));
    assertEquals("4b0f", json.getString("vm"));
    assertEquals("clash", json.getString("_msg"));
    assertEquals(6100, json.getInteger("port"));
    assertEquals(true, json.getBoolean("paused"));
  }

  @Test
  void anExceptionIsItsStackTraceInError() {
    LoggingEvent event = new LoggingEvent("x", context.getLogger("a.B"), Level.WARN, "failed",
        new IllegalStateException("boom"), null);
    JsonObject json = new JsonObject(encode(event));
    assertEquals("WARN", json.getString("level"));
    assertTrue(json.getString("error").startsWith("java.lang.IllegalStateException: boom"), json.encode());
    assertTrue(json.getString("error").contains("JsonLineEncoderTest"), json.encode());
  }
}
