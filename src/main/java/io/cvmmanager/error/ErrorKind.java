package io.cvmmanager.error;

/**
 * What went wrong, as a caller needs to know it. Each kind has a stable code that travels as the failure code of
 * an event-bus reply, and maps to one gRPC status in {@code io.cvmmanager.api.GrpcErrors}.
 */
public enum ErrorKind {
  INVALID_ARGUMENT(400),
  NOT_FOUND(404),
  FAILED_PRECONDITION(412),
  RESOURCE_EXHAUSTED(429),
  UNAVAILABLE(503),
  INTERNAL(500);

  private final int code;

  ErrorKind(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static ErrorKind fromCode(int code) {
    for (ErrorKind kind : values()) {
      if (kind.code == code) {
        return kind;
      }
    }
    return INTERNAL;
  }
}
