package io.cvmmanager.resources;

import io.cvmmanager.vm.Tee;
import java.util.Optional;

/**
 * What one VM needs of the host: its guest memory, its vCPUs, one encryption context when it has a TEE, one GPU in
 * GPU mode, and in disk mode the space its disk takes (a copy: the image's virtual size; an overlay: 0).
 *
 * @param gpuBdf with {@code gpu}: the GPU it asks for by its PCI address; empty: any free one
 */
public record Demand(long memoryBytes, int vcpus, Tee tee, boolean gpu, long diskBytes, Optional<String> gpuBdf) {
  /** Any free GPU when {@code gpu}. */
  public Demand(long memoryBytes, int vcpus, Tee tee, boolean gpu, long diskBytes) {
    this(memoryBytes, vcpus, tee, gpu, diskBytes, Optional.empty());
  }
}
