package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.GetVmRequest;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code info <id>}: every field of GetVm, one {@code name: value} a line; {@code -} for an unset one. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show a virtual machine")
final class InfoCommand implements Callable<Integer> {
  @ParentCommand
  private Cvmctl cvmctl;

  @Parameters(index = "0", paramLabel = "CVM_ID", description = "the VM's id")
  private String id;

  @Override
  public Integer call() {
    return cvmctl.call(CvmServiceGrpcClient.GetVm, GetVmRequest.newBuilder().setId(id).build(),
        vm -> VmFields.of(vm).entrySet().stream()
            .map(field -> field.getKey().getName() + ": " + (field.getValue() == null ? "-" : field.getValue()))
            .collect(Collectors.joining("\n")));
  }
}
