package io.cvmmanager.error;

/** A domain error: a kind and a human message. Errors are values; this is how they travel in failed futures. */
public final class ManagerException extends RuntimeException {
  private final ErrorKind kind;

  public ManagerException(ErrorKind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public ErrorKind kind() {
    return kind;
  }
}
