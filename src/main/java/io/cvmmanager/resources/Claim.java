package io.cvmmanager.resources;

import io.cvmmanager.vm.Tee;
import java.util.Optional;

/**
 * What one VM holds, from its admission until its QEMU is reaped and its files are gone.
 *
 * @param placement the NUMA nodes its memory is on ({@link Placement#NONE}: none in particular)
 */
public record Claim(String vmId, long memoryBytes, int vcpus, Tee tee, Optional<String> gpu, long diskBytes,
    Placement placement) {

  /** A claim with no NUMA placement (a one-node host, or a record written before placement). */
  public Claim(String vmId, long memoryBytes, int vcpus, Tee tee, Optional<String> gpu, long diskBytes) {
    this(vmId, memoryBytes, vcpus, tee, gpu, diskBytes, Placement.NONE);
  }
}
