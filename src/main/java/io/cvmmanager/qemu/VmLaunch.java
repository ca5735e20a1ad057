package io.cvmmanager.qemu;

import java.util.Optional;

/**
 * The per-VM inputs of the QEMU command line.
 *
 * @param certsShare whether {@code paths.certs()} is handed to the guest over 9p (tag certs_share)
 * @param envShare whether {@code paths.env()} is handed to the guest over 9p (tag env_share)
 * @param aaKbsParams appended to the kernel command line as {@code agent.aa_kbc_params=<value>}
 * @param hostData base64 of the 32 bytes of SEV-SNP host data bound to this VM
 */
public record VmLaunch(String id, VmPaths paths, int hostPort, boolean certsShare, boolean envShare,
    Optional<String> aaKbsParams, Optional<String> hostData) {}
