package io.cvmmanager.resources;

/**
 * Encryption contexts of one kind as the kernel's misc cgroup counts them ({@code sys/fs/cgroup/misc.capacity}
 * and {@code misc.current}): SEV-SNP guests use {@code sev_es} ASIDs, TDX guests {@code tdx} key ids.
 *
 * @param capacity how many the host has
 * @param inUse how many are in use now, by every guest of the host (this manager's included)
 */
public record ContextPool(int capacity, int inUse) {}
