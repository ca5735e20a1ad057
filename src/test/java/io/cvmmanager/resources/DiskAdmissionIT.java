package io.cvmmanager.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.testing.FakeQemu;
import io.cvmmanager.testing.SmallTmpfs;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.cvmmanager.testing.UnaryCall;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission by disk in disk mode, with the real qemu-img on a state dir of 64 MiB: a copy takes its whole size (the
 * dev guest's 64 MiB image becomes a 2 GiB disk, as upstream sizes it) and is refused up front, naming the disk;
 * an overlay takes nothing until the guest writes, and is admitted.
 */
class DiskAdmissionIT {
  @TempDir
  Path work;
  private Path stateDir;
  private SmallTmpfs tmpfs;

  @BeforeEach
  void mountSmallTmpfs() throws Exception {
    stateDir = work.resolve("state");
    tmpfs = SmallTmpfs.mount(stateDir, "64m");
  }

  @AfterEach
  void unmount() {
    if (tmpfs != null) {
      tmpfs.unmount();
    }
  }

  private UnaryCall.Result<CreateRes> createIn(String cloneMethod) throws Exception {
    Map<String, String> settings = Map.of("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(work).toString(),
        "MANAGER_QEMU_ENABLE_DISK", "true", "MANAGER_QEMU_DISK_CLONE", cloneMethod);
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(1), settings)) {
      UnaryCall.Result<CreateRes> result = manager.create(CreateReq.getDefaultInstance());
      if (result.status() == GrpcStatus.OK) {
        assertEquals(GrpcStatus.OK, manager.remove(result.response().getCvmId()).status());
      }
      manager.assertNothingLeft();
      return result;
    }
  }

  @Test
  void aCopiedDiskLargerThanTheFreeSpaceIsRefusedNamingTheDisk() throws Exception {
    UnaryCall.Result<CreateRes> refused = createIn("copy");
    assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, refused.status(), refused.message());
    assertTrue(refused.message().matches("disk: 2048 MiB asked, 6[0-4] MiB free in the state dir"),
        refused.message());
  }

  @Test
  void anOverlayTakesNothingUpFront() throws Exception {
    UnaryCall.Result<CreateRes> created = createIn("overlay");
    assertEquals(GrpcStatus.OK, created.status(), created.message());
  }
}
