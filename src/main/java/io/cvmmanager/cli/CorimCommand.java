package io.cvmmanager.cli;

import io.cvmmanager.attestation.CorimText;
import io.cvmmanager.attestation.CoseSign1;
import io.cvmmanager.attestation.SigningKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code corim}: attestation policies (CoRIM) on this machine, no manager involved. */
@Command(name = "corim", mixinStandardHelpOptions = true, description = "Inspect attestation policies (CoRIM)",
    subcommands = CorimCommand.Show.class)
final class CorimCommand {
  @ParentCommand
  private Cvmctl cvmctl;

  /**
   * {@code corim show <file> [--key public.pem]}: the policy decoded and annotated; with {@code --key} its COSE
   * signature checked (exit 1 when invalid or absent). Exit 1 with {@code error: ...} when the file is no policy.
   */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Print a policy (signed or not) with CoRIM's names; --key checks its signature")
  static final class Show implements Callable<Integer> {
    @ParentCommand
    private CorimCommand corim;

    @Parameters(paramLabel = "FILE", description = "the policy: a CoRIM (tag 501) or a COSE_Sign1 around one")
    private Path file;

    @Option(names = "--key", paramLabel = "PUBLIC_PEM",
        description = "EC P-256 public key (PEM) to check the COSE_Sign1 signature with")
    private Path key;

    @Override
    public Integer call() {
      Cvmctl cvmctl = corim.cvmctl;
      CorimText.Policy policy;
      try {
        policy = CorimText.decode(Files.readAllBytes(file));
      } catch (IOException e) {
        return cvmctl.fail("cannot read " + file + ": " + e);
      } catch (IllegalArgumentException e) {
        return cvmctl.fail(file + ": " + e.getMessage());
      }
      PublicKey publicKey = null;
      if (key != null) {
        try {
          publicKey = SigningKeys.readPublicKey(key);
        } catch (IOException e) {
          return cvmctl.fail("cannot read " + key + ": " + e);
        } catch (IllegalArgumentException e) {
          return cvmctl.fail(key + ": " + e.getMessage());
        }
      }
      cvmctl.out().println(CorimText.text(policy));
      if (policy.signed().isEmpty()) {
        cvmctl.out().println("signature: none (not signed)");
        return key == null ? 0 : Cvmctl.EXIT_FAILED;
      }
      if (publicKey == null) {
        cvmctl.out().println("signature: not checked (no --key)");
        return 0;
      }
      boolean valid = CoseSign1.verify(policy.signed().get(), publicKey);
      cvmctl.out().println(valid ? "signature: valid (ES256)" : "signature: INVALID");
      return valid ? 0 : Cvmctl.EXIT_FAILED;
    }
  }
}
