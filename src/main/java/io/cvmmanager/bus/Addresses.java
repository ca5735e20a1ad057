package io.cvmmanager.bus;

/** Every event-bus address the verticles use, in one place. Requests are JSON objects, replies too. */
public final class Addresses {
  /**
   * CreateVm: {@code io.cvmmanager.vm.VmCreateRequest} as JSON plus {@code "callId"} (the API's name for the
   * call, see {@link #VM_CREATE_ABANDON}); reply {@code {"id", "port"}} once the VM's RUNNING record is on disk.
   */
  public static final String VM_CREATE = "cvm.launcher.create";
  /**
   * A CreateVm whose reply did not reach its client (cancelled, deadline passed, connection lost, bus timeout):
   * {@code {"callId"}} as the create carried it; reply once the create is cut short and undone, or the VM it made
   * is removed (at once when no create has that call id).
   */
  public static final String VM_CREATE_ABANDON = "cvm.launcher.create-abandon";
  /** RemoveVm: {@code {"id"}}; reply once QEMU is gone and everything it had is released. */
  public static final String VM_REMOVE = "cvm.launcher.remove";
  /** AttestationPolicy: {@code {"id"}}; reply {@code {"id", "policy"}} (policy: base64 of the CoRIM bytes). */
  public static final String ATTESTATION_POLICY = "cvm.attestation.policy";
  /**
   * The SEV-SNP launch measurement of an IGVM file, taken at CreateVm so the VM's policy states the file it was
   * launched with: {@code {"igvmFile"}}; reply {@code {"measurement"}} (96 hex characters).
   */
  public static final String ATTESTATION_MEASURE = "cvm.attestation.measure";

  /** Every VM: {@code {}}; reply {@code {"vms": [VmView JSON, ...]}}. */
  public static final String VM_LIST = "cvm.launcher.list";
  /** VM details: {@code {"id"}}; reply a VM's JSON view ({@code io.cvmmanager.vm.VmView}). */
  public static final String VM_GET = "cvm.launcher.get";
  /**
   * A read-only QMP query of a running VM ({@code query-*} commands only), for operators and tests, since QEMU
   * serves one QMP client and that is the launcher: {@code {"id", "command"}}; reply {@code {"return"}}.
   */
  public static final String VM_QMP_QUERY = "cvm.launcher.qmp-query";
  /** What the monitor saw of a VM, for the launcher: {@code {"id", "type": "agent-ready"|"agent-lost", "reason"}}. */
  public static final String VM_OBSERVED = "cvm.launcher.observed";
  /**
   * Start watching a running VM (console log, agent port): {@code {"id", "port", "consoleLog", "fromEnd"}};
   * {@code fromEnd} (an adopted VM): follow the console from its current end.
   */
  public static final String MONITOR_WATCH = "cvm.monitor.watch";
  /** Stop watching a VM: {@code {"id"}}. */
  public static final String MONITOR_UNWATCH = "cvm.monitor.unwatch";
  /** The lifecycle events kept of this run, oldest first: {@code {}}; reply {@code {"events": [VmEvent JSON]}}. */
  public static final String EVENT_HISTORY = "cvm.events.history";
  /** Reserve a host port: {@code {"id"}} (or {@code {"id", "port"}} to take a given one); reply {@code {"port"}}. */
  public static final String PORT_RESERVE = "cvm.ports.reserve";
  /** Release a host port: {@code {"port"}}. */
  public static final String PORT_RELEASE = "cvm.ports.release";
  /** Make a VM's files (directory, OVMF_VARS copy, certs, env, disk): {@code io.cvmmanager.disk.VmFilesRequest}. */
  public static final String FILES_PREPARE = "cvm.disk.prepare";
  /** Delete a VM's directory and everything in it: {@code {"id"}}. */
  public static final String FILES_RELEASE = "cvm.disk.release";

  private Addresses() {}
}
