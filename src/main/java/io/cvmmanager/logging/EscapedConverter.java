package io.cvmmanager.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.pattern.CompositeConverter;

/**
 * {@code %escape(...)} in logback.xml: the text format's message, MDC and key-value pairs with control characters
 * escaped ({@link ControlCharacters}), so that a value from a client (a TTL of {@code "1x\n<fake line>"}) stays
 * inside its own line.
 */
public final class EscapedConverter extends CompositeConverter<ILoggingEvent> {
  @Override
  protected String transform(ILoggingEvent event, String in) {
    return ControlCharacters.escape(in);
  }
}
