package io.cvmmanager.qemu;

import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.resources.Placement;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import java.util.Optional;

/**
 * Everything one VM's QEMU command line is made of ({@link QemuCommand#build}): the host's QEMU config and TEE, what
 * the client asked for, and the values decided for this VM before its launch. A value that is decided once and
 * recorded with the VM (its port, its host data, its GPU, its NUMA placement; later its vCPUs and memory) is a component
 * here, not something the command derives, so the command line and the VM's record can never disagree.
 *
 * @param request the CreateVm request; only {@code aaKbsParams} reaches the command line (on the kernel's)
 * @param hostPort the host port forwarded to the guest agent
 * @param hostData base64 of the 32 bytes of SEV-SNP host data bound to this VM (attestation.HostData.forVm)
 * @param gpu the BDF of the GPU this VM was given by admission (one of MANAGER_QEMU_GPU_BDF's, or found by
 *     {@code auto}); empty: no GPU passthrough for this VM
 * @param placement the NUMA nodes admission placed this VM on ({@link Placement#NONE}: none in particular)
 */
public record LaunchInput(QemuConfig qemu, Tee tee, VmCreateRequest request, String id, VmPaths paths, int hostPort,
    Optional<String> hostData, Optional<String> gpu, Placement placement) {

  /** A VM placed on no NUMA node in particular. */
  public LaunchInput(QemuConfig qemu, Tee tee, VmCreateRequest request, String id, VmPaths paths, int hostPort,
      Optional<String> hostData, Optional<String> gpu) {
    this(qemu, tee, request, id, paths, hostPort, hostData, gpu, Placement.NONE);
  }
}
