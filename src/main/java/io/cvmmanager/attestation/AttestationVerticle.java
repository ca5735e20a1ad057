package io.cvmmanager.attestation;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.MeasureIgvm;
import io.cvmmanager.bus.Messages.Measurement;
import io.cvmmanager.bus.Messages.Policy;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers AttestationPolicy: asks the launcher for the VM, takes the SEV-SNP launch measurement of the IGVM file
 * (igvmmeasure, cached per file version) or the configured TDX registers, states them with the VM's host data and
 * the PCR reference values as a CoRIM, and signs it (COSE_Sign1) when MANAGER_CORIM_SIGNING_KEY is set. Holds no VM
 * state; the files it needs (PCR values, signing key) are read once as it starts, and a bad one fails the start.
 */
public final class AttestationVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AttestationVerticle.class);

  private final ManagerConfig config;
  private PcrValues pcrValues = PcrValues.NONE;
  private Optional<PrivateKey> signingKey = Optional.empty();
  private LaunchMeasurement measurement;
  private Bus bus;

  public AttestationVerticle(ManagerConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    ManagerConfig.Attestation attestation = config.attestation();
    // Shorter than the API's deadline for the whole request, so a hung tool is reported as such, not as a timeout.
    measurement = new LaunchMeasurement(context, attestation.igvmmeasureBinary(),
        config.grpcTimeout().multipliedBy(3).dividedBy(4));
    return vertx.executeBlocking(() -> {
      pcrValues = attestation.pcrValues().map(ReferenceFiles::pcrValues).orElse(PcrValues.NONE);
      signingKey = attestation.corimSigningKey().map(ReferenceFiles::signingKey);
      return null;
    }).onSuccess(v -> {
      if (!pcrValues.banks().getOrDefault("sha1", java.util.Map.of()).isEmpty()) {
        LOG.warn("MANAGER_PCR_VALUES has a sha1 bank: policies state it with the text algorithm \"sha-1\" (the"
            + " Named Information registry has no number for SHA-1); veraison/corim's decoder may refuse them");
      }
      bus = Bus.of(vertx);
      bus.serve(Addresses.ATTESTATION_POLICY, this::onPolicy);
      bus.serve(Addresses.ATTESTATION_MEASURE, this::onMeasure);
      LOG.info("attestation policies: {}, PCR reference values {}", signingKey.isPresent()
          ? "signed (COSE_Sign1)" : "unsigned", pcrValues.isEmpty() ? "none" : "from " + attestation.pcrValues()
          .orElseThrow());
    });
  }

  private Future<Policy> onPolicy(VmId vmId) {
    return bus.request(Addresses.VM_GET, vmId, config.grpcTimeout())
        .compose(VmView::asUpstreamSeesIt)
        .compose(this::policy)
        .map(policy -> new Policy(vmId.id(), policy))
        .onFailure(e -> {
          if (!(e instanceof ManagerException)) {
            LOG.warn("vm {}: attestation policy failed: {}", vmId.id(), e.getMessage());
          }
        });
  }

  private Future<Measurement> onMeasure(MeasureIgvm request) {
    return measurement.of(Path.of(request.igvmFile())).map(digest -> new Measurement(HexFormat.of().formatHex(digest)));
  }

  /** The policy's bytes: a CoRIM (tag 501), or a COSE_Sign1 over it when a signing key is configured. */
  private Future<byte[]> policy(VmView vm) {
    Future<Optional<byte[]>> launch = switch (vm.tee()) {
      case NONE -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
          "VM " + vm.id() + " runs without a TEE; no attestation policy"));
      // The measurement taken at CreateVm, of the file the VM was launched with; measured now only for a VM
      // whose create could not measure it (the tool was missing then) or whose record lost it.
      case SEV_SNP -> vm.launchMeasurement().isPresent()
          ? Future.succeededFuture(vm.launchMeasurement().map(HexFormat.of()::parseHex))
          : measurement.of(Path.of(config.qemu().sevSnp().igvmFile())).map(Optional::of);
      case TDX -> Future.succeededFuture(Optional.empty());
    };
    return launch.map(digest -> {
      byte[] corim = CorimEncoder.encode(PolicyAssembly.input(vm, config, digest, pcrValues));
      return signingKey.map(key -> CoseSign1.sign(corim, key)).orElse(corim);
    });
  }
}
