package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.DrainNodeRequest;
import io.cvmmanager.api.cvm.ListNodesResponse;
import io.cvmmanager.api.cvm.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code node drain|undrain <name>}: DrainNode / UndrainNode at any node, answered with the node's row as
 * {@code nodes} shows it.
 */
@Command(name = "node", mixinStandardHelpOptions = true, description = "Drain a node of the cluster, or undrain it")
final class NodeCommand {
  @ParentCommand
  private Cvmctl cvmctl;

  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = "No new VMs on the node; its VMs run on until removed (kept across its restarts)")
  int drain(@Parameters(paramLabel = "NAME", description = "the node's name") String name) {
    return cvmctl.call(CvmServiceGrpcClient.DrainNode, DrainNodeRequest.newBuilder().setName(name).build(),
        NodeCommand::row);
  }

  @Command(name = "undrain", mixinStandardHelpOptions = true, description = "The node takes new VMs again")
  int undrain(@Parameters(paramLabel = "NAME", description = "the node's name") String name) {
    return cvmctl.call(CvmServiceGrpcClient.UndrainNode, DrainNodeRequest.newBuilder().setName(name).build(),
        NodeCommand::row);
  }

  private static String row(Node node) {
    return NodesCommand.text(ListNodesResponse.newBuilder().addNodes(node).build());
  }
}
