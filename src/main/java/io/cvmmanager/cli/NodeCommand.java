package io.cvmmanager.cli;

import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.DrainNodeRequest;
import io.cvmmanager.api.cvm.ListNodesResponse;
import io.cvmmanager.api.cvm.Node;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code node drain|undrain <name>}: DrainNode / UndrainNode at any node, answered with the node's row as
 * {@code nodes} shows it.
 */
@Command(name = "node", mixinStandardHelpOptions = true, description = "Drain a node of the cluster, or undrain it",
    subcommands = {NodeCommand.Drain.class, NodeCommand.Undrain.class})
final class NodeCommand {
  @ParentCommand
  Cvmctl cvmctl;

  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = "No new VMs on the node; its VMs run on until removed (kept across its restarts)")
  static final class Drain implements Callable<Integer> {
    @ParentCommand
    private NodeCommand node;

    @Parameters(paramLabel = "NAME", description = "the node's name")
    private String name;

    @Override
    public Integer call() {
      return node.cvmctl.call(CvmServiceGrpcClient.DrainNode, DrainNodeRequest.newBuilder().setName(name).build(),
          NodeCommand::row);
    }
  }

  @Command(name = "undrain", mixinStandardHelpOptions = true, description = "The node takes new VMs again")
  static final class Undrain implements Callable<Integer> {
    @ParentCommand
    private NodeCommand node;

    @Parameters(paramLabel = "NAME", description = "the node's name")
    private String name;

    @Override
    public Integer call() {
      return node.cvmctl.call(CvmServiceGrpcClient.UndrainNode, DrainNodeRequest.newBuilder().setName(name).build(),
          NodeCommand::row);
    }
  }

  static String row(Node node) {
    return NodesCommand.text(ListNodesResponse.newBuilder().addNodes(node).build());
  }
}
