package io.cvmmanager.attestation;

import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmView;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * What one VM's policy states, from the configuration, the launch measurement and the VM: a pure function, so every
 * TEE's policy is unit-tested without a tool or a VM.
 */
public final class PolicyAssembly {
  private PolicyAssembly() {}

  /**
   * @param launchMeasurement SEV-SNP: the IGVM file's 48-byte measurement by igvmmeasure; unused for TDX
   * @param pcrValues MANAGER_PCR_VALUES's content, or {@link PcrValues#NONE}
   * @throws IllegalArgumentException for a VM without a TEE, or an SEV-SNP VM without a measurement
   */
  public static PolicyInput input(VmView vm, ManagerConfig config, Optional<byte[]> launchMeasurement,
      PcrValues pcrValues) {
    ManagerConfig.Attestation attestation = config.attestation();
    // The CPU model the VM was launched with; today's configuration only for a VM that does not say.
    String cpu = vm.cpuModel().isEmpty() ? config.qemu().cpu() : vm.cpuModel();
    return switch (vm.tee()) {
      case SEV_SNP -> new PolicyInput(vm.id(), Tee.SEV_SNP, cpu,
          launchMeasurement.orElseThrow(() -> new IllegalArgumentException("an SEV-SNP policy needs the launch "
              + "measurement")).clone(),
          Optional.empty(), vm.hostData().map(Base64.getDecoder()::decode), attestation.snpMinLaunchTcb(), List.of(),
          pcrValues);
      case TDX -> new PolicyInput(vm.id(), Tee.TDX, cpu, attestation.tdx().mrtd().clone(), Optional.empty(),
          Optional.empty(), 0, tdxRegisters(attestation.tdx()), pcrValues);
      case NONE -> throw new IllegalArgumentException("VM " + vm.id() + " runs without a TEE; no attestation policy");
    };
  }

  private static List<PolicyInput.TdxRegister> tdxRegisters(ManagerConfig.TdxReference tdx) {
    List<PolicyInput.TdxRegister> registers = new ArrayList<>();
    registers.add(new PolicyInput.TdxRegister("MRSEAM", tdx.mrseam().clone()));
    for (int i = 0; i < tdx.rtmrs().size(); i++) {
      registers.add(new PolicyInput.TdxRegister("RTMR" + i, tdx.rtmrs().get(i).clone()));
    }
    return registers;
  }
}
