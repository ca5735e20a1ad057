package io.cvmmanager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

/**
 * cvmctl builds the model of the one subcommand its command line names (start-up time), and every one where it names
 * none: help, usage errors and suggestions must read as when all were registered.
 */
class CvmctlSubcommandsTest {
  /** Nothing listens on port 1: a command that gets past parsing fails to connect, at once. */
  private static final Map<String, String> NOWHERE = Map.of("MANAGER_GRPC_URL", "127.0.0.1:1");

  @Test
  void aNamedSubcommandIsTheOnlyOneBuilt() {
    assertEquals(List.of(ListCommand.class), Cvmctl.subcommandsFor(new String[] {"list", "--json"}));
    assertEquals(List.of(LogsCommand.class), Cvmctl.subcommandsFor(new String[] {"--timeout", "5s", "logs", "x"}));
    assertEquals(List.of(NodeCommand.class), Cvmctl.subcommandsFor(new String[] {"node", "drain", "b"}));
  }

  @Test
  void noNamedSubcommandBuildsThemAll() {
    assertEquals(Cvmctl.SUBCOMMANDS, Cvmctl.subcommandsFor(new String[] {}));
    assertEquals(Cvmctl.SUBCOMMANDS, Cvmctl.subcommandsFor(new String[] {"--help"}));
    assertEquals(Cvmctl.SUBCOMMANDS, Cvmctl.subcommandsFor(new String[] {"lst"}));
  }

  @Test
  void rootHelpStillListsEverySubcommand() {
    CvmctlRun help = CvmctlRun.of(NOWHERE, "--help");
    assertEquals(0, help.exit(), help.err());
    for (Class<?> command : Cvmctl.SUBCOMMANDS) {
      String name = command.getAnnotation(Command.class).name();
      assertTrue(help.out().contains("  " + name + " "), name + " missing from:\n" + help.out());
    }
  }

  @Test
  void aMisspeltSubcommandIsAUsageErrorWithASuggestion() {
    CvmctlRun misspelt = CvmctlRun.of(NOWHERE, "lst");
    assertEquals(Cvmctl.EXIT_USAGE, misspelt.exit(), misspelt.out());
    assertTrue(misspelt.err().contains("Did you mean: cvmctl "), misspelt.err());
  }

  @Test
  void aNamedSubcommandStillParsesTheRootsOptionsAndRuns() {
    CvmctlRun list = CvmctlRun.of(NOWHERE, "--timeout", "5s", "list");
    assertEquals(Cvmctl.EXIT_FAILED, list.exit(), list.out());
    assertTrue(list.err().startsWith("error: UNAVAILABLE: connection to 127.0.0.1:1 failed"), list.err());
  }
}
