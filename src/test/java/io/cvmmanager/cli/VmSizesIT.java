package io.cvmmanager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.api.cvm.GetHostRequest;
import io.cvmmanager.api.cvm.GetVmRequest;
import io.cvmmanager.api.cvm.Host;
import io.cvmmanager.api.cvm.Resource;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cvmctl create-vm --vcpus 2 --memory 512M} against real paused QEMU: the QEMU that runs has the VM's own
 * {@code -smp} and {@code -m}, GetVm, CVMInfo and GetHost's accounts say the same, and upstream's CreateVm beside
 * it keeps the configured sizes.
 */
class VmSizesIT {
  private static final String CVM = "cvm.v1.CvmService";

  @TempDir
  Path stateDir;

  private static List<String> commandLine(long pid) throws Exception {
    String raw = new String(Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline")),
        StandardCharsets.UTF_8);
    return Arrays.asList(raw.split("\0"));
  }

  private static String after(List<String> args, String option) {
    return args.get(args.indexOf(option) + 1);
  }

  private static Resource resource(TestManager manager, String name) {
    Host host = manager.<GetHostRequest, Host>call(CVM, "GetHost", GetHostRequest.getDefaultInstance(),
        Host.newBuilder()).response();
    return host.getResourcesList().stream().filter(r -> r.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aVmSizedByCvmctlRunsWithItsOwnSizesAndIsAccountedSo() throws Exception {
    Map<String, String> settings = Map.of("MANAGER_QEMU_START_PAUSED", "true", "MANAGER_QEMU_SMP_MAXCPUS", "4");
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(2), settings)) {
      Map<String, String> env = Map.of(ManagerConnection.URL, "localhost:" + manager.config().grpc().port());
      CvmctlRun created = CvmctlRun.of(env, "create-vm", "--server-url", "cvms:7001", "--vcpus", "2",
          "--memory", "512M");
      assertEquals(0, created.exit(), created.err());
      String id = created.out().replaceAll("(?s).*with id (\\S+) and port.*", "$1");

      Vm vm = manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(id).build(),
          Vm.newBuilder()).response();
      List<String> args = commandLine(vm.getPid());
      assertTrue(after(args, "-smp").startsWith("2,"), after(args, "-smp"));
      assertTrue(after(args, "-m").startsWith("512M,"), after(args, "-m"));
      assertEquals(2, vm.getVcpus());
      assertEquals(512L << 20, vm.getMemoryBytes());
      assertEquals(2, manager.info(id).response().getCpuNum(), "CVMInfo's cpu_num is the VM's own");
      assertEquals(512L << 20, resource(manager, "memory").getAllocated());
      assertEquals(2, resource(manager, "vcpus").getAllocated());

      // Upstream's CreateVm beside it: the configured sizes (TestManager: 1 vCPU, 1024M).
      String upstream = manager.create(CreateReq.getDefaultInstance()).response().getCvmId();
      Vm configured = manager.<GetVmRequest, Vm>call(CVM, "GetVm", GetVmRequest.newBuilder().setId(upstream)
          .build(), Vm.newBuilder()).response();
      assertTrue(after(commandLine(configured.getPid()), "-m").startsWith("1024M,"));
      assertEquals(1, manager.info(upstream).response().getCpuNum());
      assertEquals((512L + 1024) << 20, resource(manager, "memory").getAllocated());
      assertEquals(3, resource(manager, "vcpus").getAllocated());

      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      assertEquals(GrpcStatus.OK, manager.remove(upstream).status());
      assertEquals(0, resource(manager, "memory").getAllocated());
    }
  }
}
