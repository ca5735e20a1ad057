package io.cvmmanager.resources;

import io.cvmmanager.vm.Tee;

/**
 * What one VM needs of the host: its guest memory, its vCPUs, one encryption context when it has a TEE, one GPU in
 * GPU mode, and in disk mode the space its disk takes (a copy: the image's virtual size; an overlay: 0).
 */
public record Demand(long memoryBytes, int vcpus, Tee tee, boolean gpu, long diskBytes) {}
