package io.cvmmanager.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.cvmmanager.cluster.CreateOutcomes.Settled;
import io.cvmmanager.config.ClusterConfig;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The once-only decision of a cross-node create's outcome, on a real (lone, unjoined) Hazelcast member: whichever of
 * the entry node's delivery and the owner's settling comes first wins, and the VM is kept exactly when the client
 * gets its id.
 */
class CreateOutcomesTest {
  private static HazelcastInstance hazelcast;
  private static Vertx vertx;
  private static CreateOutcomes entry;
  private static CreateOutcomes owner;

  @BeforeAll
  static void start() throws Exception {
    Config config = new Config().setClusterName("outcomes-" + ProcessHandle.current().pid());
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.getNetworkConfig().setPort(0).getJoin().getMulticastConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    config.setProperty("hazelcast.socket.bind.any", "false");
    hazelcast = Hazelcast.newHazelcastInstance(config);
    vertx = Vertx.vertx();
    ManagerConfig managerConfig = ConfigParser.parse(Map.of(), Path.of("/root"), true);
    entry = new CreateOutcomes(new ClusterNode(vertx, ClusterConfig.off().withNodeName("a"), managerConfig,
        hazelcast));
    owner = new CreateOutcomes(new ClusterNode(vertx, ClusterConfig.off().withNodeName("b"), managerConfig,
        hazelcast));
  }

  @AfterAll
  static void stop() {
    vertx.close().await();
    hazelcast.shutdown();
  }

  @Test
  void deliveredBeforeTheOwnerSettlesIsKept() {
    entry.begin("call-1", "b").await();
    assertTrue(entry.deliver("call-1", "b").await());
    assertEquals(Settled.KEEP, owner.settle("call-1", "a").await());
    assertFalse(entry.fail("call-1", "b").await(), "an undo after delivery finds it delivered");
  }

  @Test
  void settledByTheOwnerFirstIsRemovedAndCannotBeDelivered() {
    entry.begin("call-2", "b").await();
    assertEquals(Settled.REMOVE, owner.settle("call-2", "a").await());
    assertFalse(entry.deliver("call-2", "b").await(), "the entry node answers UNAVAILABLE instead of the id");
  }

  @Test
  void failedByTheEntryNodeIsRemoved() {
    entry.begin("call-3", "b").await();
    assertTrue(entry.fail("call-3", "b").await());
    assertEquals(Settled.REMOVE, owner.settle("call-3", "a").await());
    owner.forget("call-3").await();
    assertEquals(Settled.KEEP, owner.settle("call-3", "a").await(), "forgotten: nothing on record");
  }

  @Test
  void anOutcomeOfAnotherEntryNodeIsNotTaken() {
    entry.begin("call-4", "b").await();
    assertEquals(Settled.KEEP, owner.settle("call-4", "c").await(), "not pending from c: kept, not failed");
    assertTrue(entry.deliver("call-4", "b").await());
  }

  @Test
  void noOutcomeOnRecordKeepsTheVm() {
    assertEquals(Settled.KEEP, owner.settle("never-recorded", "a").await());
  }
}
