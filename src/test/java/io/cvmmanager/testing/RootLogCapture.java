package io.cvmmanager.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Every event logged in this JVM while open (at the levels the loggers let through), for a test to look at. */
public final class RootLogCapture implements AutoCloseable {
  private final Logger root = ((LoggerContext) LoggerFactory.getILoggerFactory())
      .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  public RootLogCapture() {
    appender.start();
    root.addAppender(appender);
  }

  /** The events so far, as a copy (the appender takes events from every thread). */
  public List<ILoggingEvent> events() {
    synchronized (appender) {
      return List.copyOf(appender.list);
    }
  }

  public void clear() {
    synchronized (appender) {
      appender.list.clear();
    }
  }

  @Override
  public void close() {
    root.detachAppender(appender);
  }
}
