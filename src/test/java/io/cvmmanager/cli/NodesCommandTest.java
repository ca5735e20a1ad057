package io.cvmmanager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cvmmanager.api.cvm.ListNodesResponse;
import io.cvmmanager.api.cvm.Node;
import io.cvmmanager.api.cvm.Resource;
import io.cvmmanager.cluster.NodeList;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code cvmctl nodes}' table, and the state a node is listed in. */
class NodesCommandTest {
  @Test
  void aRowPerNodeWithItsStateFreeResourcesVmsAndAddressesThenItsFlags() {
    ListNodesResponse nodes = ListNodesResponse.newBuilder()
        .addNodes(Node.newBuilder().setName("tee-a").setState("ready").setTee("SEV_SNP").setVmCount(3).setMaxVms(10)
            .setGrpcAddress("10.0.0.1:7001").setHost("10.0.0.1")
            .addResources(Resource.newBuilder().setName("memory").setUnit("bytes").setFree(48L << 30))
            .addResources(Resource.newBuilder().setName("vcpus").setUnit("count").setFree(20)))
        .addNodes(Node.newBuilder().setName("tee-b").setState("draining").setStoppable(true).setTee("SEV_SNP")
            .setGrpcAddress("10.0.0.2:7001").setHost("10.0.0.2"))
        .addNodes(Node.newBuilder().setName("tee-c").setState("lost").setVmCount(2)
            .addFlags("tee-a: no answer over the event bus"))
        .build();
    assertEquals(List.of(
        "NODE   STATE                      TEE      FREE MEMORY  FREE VCPUS  VMS   GRPC           HOST",
        "tee-a  ready                      SEV_SNP  48 GiB       20          3/10  10.0.0.1:7001  10.0.0.1",
        "tee-b  draining (can be stopped)  SEV_SNP  -            -           0     10.0.0.2:7001  10.0.0.2",
        "tee-c  lost                       -        -            -           2     -              -",
        "flag tee-c: tee-a: no answer over the event bus"),
        NodesCommand.text(nodes).lines().map(String::stripTrailing).toList());
  }

  @Test
  void aNodeIsLostWhenNotAMemberUntrustedWhenSilentElseAsItsRecordSays() {
    JsonObject draining = new JsonObject().put("state", "draining");
    assertEquals("lost", new NodeList.Node("b", false, false, List.of(), draining, 1).state());
    assertEquals("untrusted", new NodeList.Node("b", true, false, List.of(), draining, 0).state());
    assertEquals("draining", new NodeList.Node("b", true, true, List.of(), draining, 0).state());
    assertEquals("ready", new NodeList.Node("b", true, true, List.of(), new JsonObject(), 0).state());
  }
}
