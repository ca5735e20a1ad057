package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.ListNodesRequest;
import io.cvmmanager.api.cvm.ListNodesResponse;
import io.cvmmanager.api.cvm.Node;
import io.cvmmanager.api.cvm.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code nodes}: ListNodes, a node a row — its state, TEE, free memory and vCPUs, VMs (of MAX_VMS), and where it is
 * reached; a drained node with no VM left says it can be stopped; flags under the table.
 */
@Command(name = "nodes", mixinStandardHelpOptions = true,
    description = "List the nodes of the cluster: state, TEE, free resources, VMs, addresses")
final class NodesCommand implements Callable<Integer> {
  private static final List<String> HEADER =
      List.of("NODE", "STATE", "TEE", "FREE MEMORY", "FREE VCPUS", "VMS", "GRPC", "HOST");

  @ParentCommand
  private Cvmctl cvmctl;

  @Override
  public Integer call() {
    return cvmctl.call(CvmServiceGrpcClient.ListNodes, ListNodesRequest.getDefaultInstance(), NodesCommand::text);
  }

  static String text(ListNodesResponse response) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(HEADER);
    List<String> notes = new ArrayList<>();
    for (Node node : response.getNodesList()) {
      rows.add(List.of(node.getName(), node.getState() + (node.getStoppable() ? " (can be stopped)" : ""),
          node.getTee().isEmpty() ? "-" : node.getTee(), free(node, "memory", true), free(node, "vcpus", false),
          node.getVmCount() + (node.getMaxVms() > 0 ? "/" + node.getMaxVms() : ""),
          node.getGrpcAddress().isEmpty() ? "-" : node.getGrpcAddress(),
          node.getHost().isEmpty() ? "-" : node.getHost()));
      node.getFlagsList().forEach(flag -> notes.add(node.getName() + ": " + flag));
    }
    StringBuilder text = new StringBuilder(Table.of(rows));
    notes.forEach(note -> text.append("\nflag ").append(note));
    return text.toString();
  }

  private static String free(Node node, String name, boolean bytes) {
    return node.getResourcesList().stream().filter(r -> r.getName().equals(name) && r.hasFree()).findFirst()
        .map(Resource::getFree).map(free -> HostCommand.amount(free, bytes)).orElse("-");
  }
}
