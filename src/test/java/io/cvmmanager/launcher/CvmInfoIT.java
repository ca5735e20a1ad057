package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CvmInfoIT {
  @Test
  void cvmInfoAnswersForAVmAndNotFoundForAnUnknownId(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2), Map.of(
        "MANAGER_QEMU_START_PAUSED", "true",
        "MANAGER_QEMU_SMP_COUNT", "2",
        "MANAGER_QEMU_OVMF_VERSION", "edk2-stable202302",
        "MANAGER_EOS_VERSION", "v0.4.0"))) {
      String id = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      CVMInfoRes info = manager.info(id).response();
      assertEquals(id, info.getId());
      assertEquals(2, info.getCpuNum());
      assertEquals("max", info.getCpuType());
      assertEquals("edk2-stable202302", info.getOvmfVersion());
      assertEquals("v0.4.0", info.getEosVersion());
      assertEquals("console=ttyS0", info.getKernelCmd());

      assertEquals(GrpcStatus.NOT_FOUND, manager.info("4b0f7f0e-0000-4000-8000-000000000000").status());
      assertEquals(GrpcStatus.INVALID_ARGUMENT, manager.info("").status());
      assertEquals(GrpcStatus.OK, manager.remove(id).status());
    }
  }
}
