package io.cvmmanager.logging;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import java.util.Arrays;

/**
 * {@code %escapedEx} in logback.xml: the stack trace as logback prints it, one frame per line, with control
 * characters in each exception's message escaped: a message may quote a client's value.
 */
public final class EscapedThrowableConverter extends ThrowableProxyConverter {
  @Override
  protected String throwableProxyToString(IThrowableProxy error) {
    return super.throwableProxyToString(new Escaped(error));
  }

  /** {@code error} with its message (and those of its causes and suppressed exceptions) escaped. */
  private record Escaped(IThrowableProxy error) implements IThrowableProxy {
    @Override
    public String getMessage() {
      return error.getMessage() == null ? null : ControlCharacters.escape(error.getMessage());
    }

    @Override
    public String getClassName() {
      return error.getClassName();
    }

    @Override
    public StackTraceElementProxy[] getStackTraceElementProxyArray() {
      return error.getStackTraceElementProxyArray();
    }

    @Override
    public int getCommonFrames() {
      return error.getCommonFrames();
    }

    @Override
    public IThrowableProxy getCause() {
      return error.getCause() == null ? null : new Escaped(error.getCause());
    }

    @Override
    public IThrowableProxy[] getSuppressed() {
      return error.getSuppressed() == null ? null
          : Arrays.stream(error.getSuppressed()).map(Escaped::new).toArray(IThrowableProxy[]::new);
    }

    @Override
    public boolean isCyclic() {
      return error.isCyclic();
    }
  }
}
