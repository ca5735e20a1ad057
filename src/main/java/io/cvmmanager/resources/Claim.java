package io.cvmmanager.resources;

import io.cvmmanager.vm.Tee;
import java.util.Optional;

/** What one VM holds, from its admission until its QEMU is reaped and its files are gone. */
public record Claim(String vmId, long memoryBytes, int vcpus, Tee tee, Optional<String> gpu, long diskBytes) {}
