package io.cvmmanager.launcher;

import io.cvmmanager.process.RunningProcess;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.qmp.QmpClient;
import io.cvmmanager.resources.Claim;
import io.cvmmanager.vm.CreateOrigin;
import io.cvmmanager.vm.LaunchConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmUsage;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * One VM as the launcher tracks it. Mutable, and touched only on the launcher's event loop (the single writer of VM
 * state), so it needs no synchronisation; everything that leaves the launcher is a {@link VmView}.
 */
final class Vm {
  private static final int STDERR_LINES_KEPT = 20;

  final String id;
  final VmPaths paths;
  final Tee tee;
  final boolean diskMode;
  final String kernelCmdline;
  final Instant created;
  final Optional<Instant> ttlDeadline;
  /** The launch configuration recorded in state.json (see {@link VmRecord#config}). */
  final LaunchConfig launchConfig;
  /** Started by an earlier manager: not our child, so its end is looked for in /proc. */
  final boolean adopted;
  final Deque<String> stderrTail = new ArrayDeque<>();

  VmState state = VmState.CREATING;
  int port;
  boolean paused;
  List<String> command = List.of();
  RunningProcess process;
  /** With the PID, the process's identity (field 22 of /proc/<pid>/stat). */
  long pidStartTime;
  /** The last state.json write; each write waits for the one before, so they land in order. */
  Future<Void> saved = Future.succeededFuture();
  /**
   * Why the create must not go on (the manager stops, or the API abandoned the call): set while the VM is being
   * created, its saga fails at the next step and undoes what it made. Empty while the create may go on.
   */
  Optional<String> cancelled = Optional.empty();
  /** The API's name for the CreateVm call that made this VM, by which the call is abandoned; empty if adopted. */
  String callId = "";
  /** The entry node and call that placed it here, when another node of the cluster did. */
  Optional<CreateOrigin> origin = Optional.empty();
  /** Its last state.json write failed and is being retried; the record on disk is older than the VM. */
  boolean unsaved;
  /** The create saga, until it has succeeded or been undone. */
  Future<Void> creation = Future.succeededFuture();
  /** The VM's directory exists (made at FILES_PREPARE, gone at release): only then is state.json written. */
  boolean persistent;
  QmpClient qmp;
  long ttlTimer = -1;
  /** Set when QEMU reported SHUTDOWN: its end is then orderly (STOPPED), not a crash or kill (FAILED). */
  String shutdownReason;
  boolean agentReady;
  /**
   * What the VM holds of the host (memory, vCPUs, a TEE context, a GPU, disk), from its admission (or adoption)
   * until its QEMU is reaped and its files are gone.
   */
  Claim claim;
  /** SEV-SNP host data bound to this VM (base64 of 32 bytes), set at create; empty without it. */
  Optional<String> hostData = Optional.empty();
  /** SEV-SNP: the launch measurement (hex) of the IGVM file at create, which the VM's policy states. */
  Optional<String> launchMeasurement = Optional.empty();
  /** What its QEMU used at the monitor's last sample; empty until the first. */
  Optional<VmUsage> usage = Optional.empty();

  Vm(String id, VmPaths paths, Tee tee, boolean diskMode, boolean paused, String kernelCmdline,
      Optional<Instant> ttlDeadline, LaunchConfig launchConfig) {
    this(id, paths, tee, diskMode, paused, kernelCmdline, Instant.now(), ttlDeadline, launchConfig, false);
  }

  private Vm(String id, VmPaths paths, Tee tee, boolean diskMode, boolean paused, String kernelCmdline,
      Instant created, Optional<Instant> ttlDeadline, LaunchConfig launchConfig, boolean adopted) {
    this.id = id;
    this.paths = paths;
    this.tee = tee;
    this.diskMode = diskMode;
    this.paused = paused;
    this.kernelCmdline = kernelCmdline;
    this.created = created;
    this.ttlDeadline = ttlDeadline;
    this.launchConfig = launchConfig;
    this.adopted = adopted;
  }

  /** A VM an earlier manager started, taken back from its record: RUNNING, with its port and files. */
  static Vm adopt(VmRecord record, VmPaths paths, RunningProcess process, long pidStartTime) {
    Vm vm = new Vm(record.id(), paths, record.tee(), record.diskMode(), record.paused(), record.kernelCmdline(),
        record.created(), record.ttlDeadline(), record.config(), true);
    vm.state = VmState.RUNNING;
    vm.port = record.port();
    vm.command = record.command();
    vm.process = process;
    vm.pidStartTime = pidStartTime;
    vm.hostData = record.hostData();
    vm.launchMeasurement = record.launchMeasurement();
    vm.claim = record.claim();
    vm.origin = record.origin();
    vm.persistent = true;
    return vm;
  }

  /** What state.json says of the VM now. */
  VmRecord record() {
    return new VmRecord(id, state, created, Instant.now(), tee, diskMode, paused, kernelCmdline, ttlDeadline, port,
        process == null ? 0 : process.pid(), pidStartTime, command, files(), launchConfig, hostData,
        launchMeasurement, claim, origin);
  }

  /** The files made for this VM: those of every VM, the OVMF_VARS copy without a TEE, the disk in disk mode. */
  List<String> files() {
    List<Path> files = new ArrayList<>(List.of(paths.stateFile(), paths.qmpSocket(), paths.consoleLog(),
        paths.pidFile(), paths.certs(), paths.env()));
    if (tee == Tee.NONE) {
      files.add(paths.ovmfVars());
    }
    if (diskMode) {
      files.add(paths.disk());
    }
    return files.stream().map(Path::toString).toList();
  }

  /** Created: its create succeeded (its RUNNING record is durable); a VM being created or undone is not. */
  boolean isCreated() {
    return creation.isComplete() && creation.succeeded();
  }

  void moveTo(VmState next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException("vm " + id + ": illegal transition " + state + " -> " + next);
    }
    state = next;
  }

  void keepStderr(String line) {
    if (stderrTail.size() == STDERR_LINES_KEPT) {
      stderrTail.removeFirst();
    }
    stderrTail.addLast(line);
  }

  String stderrSummary() {
    return stderrTail.isEmpty() ? "(no output)" : String.join(" | ", stderrTail);
  }

  boolean exited() {
    return process == null || process.exited();
  }

  VmView view() {
    return new VmView(id, state, port, process == null ? 0 : process.pid(), created, ttlDeadline,
        diskMode ? "disk" : "kernel", tee, paused, agentReady, kernelCmdline, hostData,
        launchConfig.cpu(), launchMeasurement, claim == null ? Optional.empty() : claim.gpu(),
        claim == null ? 0 : claim.vcpus(), claim == null ? 0 : claim.memoryBytes(), usage,
        claim == null ? "" : claim.placement().nodeList(), origin);
  }
}
