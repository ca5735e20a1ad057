package io.cvmmanager.error;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

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

  /** The form an event-bus consumer fails a request with, so the sender can rebuild this exception. */
  public ReplyException toReply() {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, kind.code(), getMessage());
  }
}
