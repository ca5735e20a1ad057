package io.cvmmanager.bus;

/** Every event-bus address the verticles use, in one place. Requests are JSON objects, replies too. */
public final class Addresses {
  /** CreateVm: {@code io.cvmmanager.launcher.VmCreateRequest} as JSON; reply {@code {"id", "port"}}. */
  public static final String VM_CREATE = "cvm.launcher.create";
  /** RemoveVm: {@code {"id"}}; reply once QEMU is gone and everything it had is released. */
  public static final String VM_REMOVE = "cvm.launcher.remove";
  /** AttestationPolicy: {@code {"id"}}; reply {@code {"id", "policy"}} (policy: base64 of the CoRIM bytes). */
  public static final String ATTESTATION_POLICY = "cvm.attestation.policy";

  private Addresses() {}
}
