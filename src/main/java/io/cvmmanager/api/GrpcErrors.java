package io.cvmmanager.api;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;

/** The one place where errors become gRPC statuses. Upstream answers everything with UNKNOWN; we say what it is. */
final class GrpcErrors {
  private GrpcErrors() {}

  static StatusException toStatus(String rpc, Throwable error) {
    if (error instanceof StatusException status) {
      return status;
    }
    if (error instanceof ManagerException domain) {
      return new StatusException(status(domain.kind()), domain.getMessage());
    }
    if (error instanceof ReplyException reply) {
      if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
        return new StatusException(GrpcStatus.UNAVAILABLE, rpc + " is not available: the manager is stopping");
      }
      if (reply.failureType() == ReplyFailure.TIMEOUT) {
        return new StatusException(GrpcStatus.DEADLINE_EXCEEDED, rpc + " timed out");
      }
      return new StatusException(status(ErrorKind.fromCode(reply.failureCode())), reply.getMessage());
    }
    return new StatusException(GrpcStatus.INTERNAL, rpc + " failed: " + error);
  }

  static GrpcStatus status(ErrorKind kind) {
    return switch (kind) {
      case INVALID_ARGUMENT -> GrpcStatus.INVALID_ARGUMENT;
      case NOT_FOUND -> GrpcStatus.NOT_FOUND;
      case FAILED_PRECONDITION -> GrpcStatus.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> GrpcStatus.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> GrpcStatus.UNAVAILABLE;
      case INTERNAL -> GrpcStatus.INTERNAL;
    };
  }
}
