package io.cvmmanager.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import io.cvmmanager.config.ManagerConfig;
import java.util.Iterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies MANAGER_LOG_LEVEL and MANAGER_LOG_FORMAT once the configuration is known. Until then (and for a
 * configuration error, which is printed as plain lines on stderr) logback.xml's readable pattern is in force; that
 * pattern is also the {@code text} format. Either format escapes control characters, so that one event is one line
 * whatever a client's value holds.
 */
public final class Logging {
  private Logging() {}

  public static void configure(ManagerConfig.LogLevel level, ManagerConfig.LogFormat format) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      configure(context, level, format);
    }
  }

  static void configure(LoggerContext context, ManagerConfig.LogLevel level, ManagerConfig.LogFormat format) {
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(level.name()));
    if (format == ManagerConfig.LogFormat.JSON) {
      for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
        if (it.next() instanceof OutputStreamAppender<ILoggingEvent> appender) {
          JsonLineEncoder encoder = new JsonLineEncoder();
          encoder.setContext(context);
          encoder.start();
          appender.stop();
          appender.setEncoder(encoder);
          appender.start();
        }
      }
    }
  }
}
