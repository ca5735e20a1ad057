package io.cvmmanager.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;

/** The two outcomes of a CreateVm that admission tests look at, over the manager's real gRPC API. */
final class Admissions {
  private Admissions() {}

  /** A create that is admitted: its id. */
  static String created(TestManager manager) {
    UnaryCall.Result<CreateRes> created = manager.create(CreateReq.getDefaultInstance());
    assertEquals(GrpcStatus.OK, created.status(), created.message());
    return created.response().getCvmId();
  }

  /** A create refused RESOURCE_EXHAUSTED with {@code expected} in its message, and nothing made for it. */
  static void assertRefused(TestManager manager, String expected) throws Exception {
    int dirsBefore = manager.vmDirs().size();
    UnaryCall.Result<CreateRes> refused = manager.create(CreateReq.getDefaultInstance());
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, refused.status(), refused.message());
    assertTrue(refused.message().contains(expected), refused.message());
    assertEquals(dirsBefore, manager.vmDirs().size(), "nothing is made for a refused VM");
  }
}
