package io.cvmmanager.cli;

import io.cvmmanager.api.manager.ManagerServiceGrpcClient;
import io.cvmmanager.api.manager.RemoveReq;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** cocos-cli's {@code remove-vm <cvm_id>}: stops the VM and removes everything the manager made for it. */
@Command(name = "remove-vm", mixinStandardHelpOptions = true, description = "Remove a virtual machine")
final class RemoveVmCommand implements Callable<Integer> {
  @ParentCommand
  private Cvmctl cvmctl;

  @Parameters(index = "0", paramLabel = "CVM_ID", description = "the id create-vm printed")
  private String id;

  @Override
  public Integer call() {
    return cvmctl.call(ManagerServiceGrpcClient.RemoveVm, RemoveReq.newBuilder().setCvmId(id).build(),
        removed -> "Virtual machine removed successfully with id " + id);
  }
}
