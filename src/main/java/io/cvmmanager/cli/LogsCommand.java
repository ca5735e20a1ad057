package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.LogLine;
import io.cvmmanager.api.cvm.StreamLogsRequest;
import io.cvmmanager.vm.VmLogLine;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code logs <id>}: the last lines of the VM's serial console as the guest printed them; with {@code -f}, then
 * every new console line and QEMU's own stderr (marked {@code [qemu] }), until the VM ends (a last line, marked
 * {@code [manager] }, says why) or Ctrl-C.
 */
@Command(name = "logs", mixinStandardHelpOptions = true, description = "Print a virtual machine's console")
final class LogsCommand implements Callable<Integer> {
  static final String QEMU_PREFIX = "[qemu] ";
  static final String MANAGER_PREFIX = "[manager] ";

  @ParentCommand
  private Cvmctl cvmctl;

  @Spec
  private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CVM_ID", description = "the VM's id")
  private String id;

  @Option(names = {"-f", "--follow"}, description = "keep printing new lines until the VM ends or Ctrl-C")
  private boolean follow;

  @Option(names = "--tail", paramLabel = "N", defaultValue = "100",
      description = "how many of the last console lines to print first (default: ${DEFAULT-VALUE})")
  private int tail;

  @Override
  public Integer call() {
    if (tail < 0) {
      throw new ParameterException(spec.commandLine(), "--tail: " + tail + " is negative");
    }
    return cvmctl.stream(CvmServiceGrpcClient.StreamLogs,
        StreamLogsRequest.newBuilder().setId(id).setFollow(follow).setTail(tail).build(), LogsCommand::text);
  }

  private static String text(LogLine line) {
    return switch (line.getStream()) {
      case VmLogLine.STDERR -> QEMU_PREFIX + line.getLine();
      case VmLogLine.MANAGER -> MANAGER_PREFIX + line.getLine();
      default -> line.getLine();
    };
  }
}
