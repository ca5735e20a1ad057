package io.cvmmanager.qmp;

/** A QMP command that QEMU refused ({@code error} reply), or a QMP connection that ended or never answered. */
public final class QmpException extends RuntimeException {
  private final String errorClass;

  public QmpException(String errorClass, String message) {
    super(message);
    this.errorClass = errorClass;
  }

  /** QEMU's error class (e.g. GenericError, CommandNotFound), or ours: Disconnected, Timeout, Protocol. */
  public String errorClass() {
    return errorClass;
  }
}
