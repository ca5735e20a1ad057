package io.cvmmanager.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.testing.ManagerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar refuses a bad configuration with one line per problem, naming the variable, and exit code 2. */
class ConfigErrorsIT {
  @TempDir
  Path dir;

  /** A configuration that passes every check: TCG, no TEE, existing (empty) kernel and initramfs. */
  private Map<String, String> valid() throws Exception {
    Path kernel = Files.writeString(dir.resolve("bzImage"), "");
    Path rootfs = Files.writeString(dir.resolve("rootfs.cpio.gz"), "");
    Map<String, String> env = new HashMap<>();
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "false");
    env.put("MANAGER_QEMU_ENABLE_TDX", "false");
    env.put("MANAGER_QEMU_DISK_IMG_KERNEL_FILE", kernel.toString());
    env.put("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", rootfs.toString());
    env.put("MANAGER_STATE_DIR", dir.resolve("state").toString());
    env.put("MANAGER_HOST_ROOT", dir.resolve("host").toString());
    return env;
  }

  private List<String> refusedWith(Map<String, String> env) throws Exception {
    try (ManagerProcess manager = ManagerProcess.start(null, env, dir)) {
      int code = manager.awaitExit(60);
      assertEquals(2, code, "exit code; output:\n" + manager.output());
      return manager.output().lines().filter(l -> l.startsWith("cvm-manager: invalid configuration")).toList();
    }
  }

  @Test
  void portOutOfRangeIsOneLineAndExitCodeTwo() throws Exception {
    Map<String, String> env = valid();
    env.put("MANAGER_GRPC_PORT", "70000");
    List<String> lines = refusedWith(env);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("MANAGER_GRPC_PORT") && lines.get(0).contains("70000"), lines.get(0));
  }

  @Test
  void invertedPortRangeIsOneLineAndExitCodeTwo() throws Exception {
    Map<String, String> env = valid();
    env.put("MANAGER_QEMU_HOST_FWD_RANGE", "6200-6100");
    List<String> lines = refusedWith(env);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("MANAGER_QEMU_HOST_FWD_RANGE") && lines.get(0).contains("inverted"),
        lines.get(0));
  }

  @Test
  void missingOvmfFileNamesTheVariable() throws Exception {
    Map<String, String> env = valid();
    env.put("MANAGER_QEMU_OVMF_CODE_FILE", dir.resolve("no-such-OVMF_CODE.fd").toString());
    List<String> lines = refusedWith(env);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("MANAGER_QEMU_OVMF_CODE_FILE"), lines.get(0));
  }

  @Test
  void sevSnpAskedForOnAHostWithoutItIsRefused() throws Exception {
    Map<String, String> env = valid();
    Path kvm = dir.resolve("host/dev/kvm");
    Files.createDirectories(kvm.getParent());
    Files.writeString(kvm, "");
    env.put("MANAGER_QEMU_ENABLE_KVM", "true");
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    env.put("MANAGER_QEMU_IGVM_FILE", Files.writeString(dir.resolve("coconut.igvm"), "").toString());
    List<String> lines = refusedWith(env);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains("MANAGER_QEMU_ENABLE_SEV_SNP"), lines.get(0));
  }

  @Test
  void everyInvalidValueGetsItsOwnLine() throws Exception {
    Map<String, String> env = valid();
    env.put("MANAGER_GRPC_PORT", "0");
    env.put("MANAGER_QEMU_MEMORY_SIZE", "lots");
    env.put("MANAGER_LOG_LEVEL", "chatty");
    List<String> lines = refusedWith(env);
    assertEquals(3, lines.size(), lines.toString());
  }
}
