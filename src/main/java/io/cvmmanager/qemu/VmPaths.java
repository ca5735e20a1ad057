package io.cvmmanager.qemu;

import java.nio.file.Path;

/** Where every per-VM file lives: one directory, {@code <state dir>/vms/<id>/}. */
public record VmPaths(Path dir) {
  public static VmPaths of(Path stateDir, String vmId) {
    return new VmPaths(stateDir.resolve("vms").resolve(vmId));
  }

  /** The state dir this VM's directory is in. */
  public Path stateDir() {
    return dir.getParent().getParent();
  }

  public Path stateFile() {
    return dir.resolve("state.json");
  }

  public Path qmpSocket() {
    return dir.resolve("qmp.sock");
  }

  public Path consoleLog() {
    return dir.resolve("console.log");
  }

  public Path pidFile() {
    return dir.resolve("qemu.pid");
  }

  public Path ovmfVars() {
    return dir.resolve("OVMF_VARS.fd");
  }

  public Path disk() {
    return dir.resolve("disk.qcow2");
  }

  public Path certs() {
    return dir.resolve("certs");
  }

  public Path env() {
    return dir.resolve("env");
  }
}
