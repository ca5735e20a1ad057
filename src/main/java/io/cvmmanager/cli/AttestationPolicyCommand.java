package io.cvmmanager.cli;

import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.ManagerServiceGrpcClient;
import io.cvmmanager.attestation.CorimText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code attestation-policy <id> [-o file]}: the VM's policy through upstream's {@code ManagerService.AttestationPolicy}:
 * its bytes into the file (for a verifier, or {@code corim show --key}), or without {@code -o} decoded as
 * {@code corim show} prints it.
 */
@Command(name = "attestation-policy", mixinStandardHelpOptions = true,
    description = "Get a VM's attestation policy (CoRIM): into a file with -o, else printed decoded")
final class AttestationPolicyCommand implements Callable<Integer> {
  @ParentCommand
  private Cvmctl cvmctl;

  @Parameters(index = "0", paramLabel = "CVM_ID", description = "the VM's id")
  private String id;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "write the policy's bytes to FILE")
  private Path output;

  @Override
  public Integer call() {
    return cvmctl.call(ManagerServiceGrpcClient.AttestationPolicy, AttestationPolicyReq.newBuilder().setId(id).build(),
        response -> {
          byte[] policy = response.getInfo().toByteArray();
          return output == null ? decoded(policy) : written(policy);
        });
  }

  private String written(byte[] policy) {
    try {
      Files.write(output, policy);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + output, e);
    }
    return "";
  }

  private static String decoded(byte[] policy) {
    CorimText.Policy decoded = CorimText.decode(policy);
    return CorimText.text(decoded) + "\n" + (decoded.signed().isPresent()
        ? "signature: not checked (save it with -o, then: corim show FILE --key PUBLIC_PEM)"
        : "signature: none (not signed)");
  }
}
