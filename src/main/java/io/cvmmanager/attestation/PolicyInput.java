package io.cvmmanager.attestation;

import io.cvmmanager.vm.Tee;
import java.util.List;
import java.util.Optional;

/**
 * Everything one VM's attestation policy states: the reference values a verifier compares the VM's attestation
 * report with. Built by the AttestationVerticle from configuration, the igvmmeasure tool and the VM; encoded as a
 * CoRIM by {@link CorimEncoder}. Byte arrays are never mutated once a record holds them.
 *
 * @param vmId the VM the policy is for; its UUID names the CoRIM ({@code <platform>-corim-<id>}) and the CoMID tag
 * @param tee SEV_SNP or TDX (a VM without a TEE has no policy)
 * @param cpuModel MANAGER_QEMU_CPU; the environment instance is UUIDv5(NameSpace_OID, cpuModel), as upstream
 * @param measurement SEV-SNP: the 48-byte launch measurement of the IGVM file; TDX: the 48-byte MRTD
 * @param svn the security version number of the measured firmware, when known; SEV-SNP only (the guest SVN; the
 *     encoder refuses one for TDX, whose MRTD has no scalar SVN)
 * @param hostData SEV-SNP only: the 32 bytes of host data bound to the VM
 * @param minLaunchTcb SEV-SNP only: MANAGER_SNP_MIN_LAUNCH_TCB, the lowest launch TCB a verifier accepts
 * @param tdxRegisters TDX only: MRSEAM, RTMR0..RTMR3 (48 bytes each), in that order; empty for SEV-SNP
 * @param pcrValues the vTPM PCR reference values of MANAGER_PCR_VALUES (may be empty)
 */
public record PolicyInput(String vmId, Tee tee, String cpuModel, byte[] measurement, Optional<Long> svn,
    Optional<byte[]> hostData, long minLaunchTcb, List<TdxRegister> tdxRegisters, PcrValues pcrValues) {

  public PolicyInput {
    if (tee == Tee.NONE) {
      throw new IllegalArgumentException("a VM without a TEE has no attestation policy");
    }
    tdxRegisters = List.copyOf(tdxRegisters);
  }

  /** One named TDX measurement register: {@code MRSEAM}, {@code RTMR0} … {@code RTMR3}. */
  public record TdxRegister(String name, byte[] value) {}
}
