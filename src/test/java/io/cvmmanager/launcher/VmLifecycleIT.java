package io.cvmmanager.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.QmpQuery;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.disk.DiskSize;
import io.cvmmanager.testing.AgentProbe;
import io.cvmmanager.testing.DevGuest;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream API end to end: a real gRPC client creates a VM that boots the dev guest for real, whose agent
 * answers through the forwarded port with the id and certificates handed over 9p; RemoveVm leaves nothing.
 */
class VmLifecycleIT {
  private static final Duration BOOT = Duration.ofSeconds(120);

  static CreateReq withCertificates() {
    return CreateReq.newBuilder()
        .setAgentLogLevel("debug")
        .setAgentCvmServerUrl("cvms.example:7001")
        .setAgentCvmCaUrl("https://ca.example")
        .setAgentCertsToken("token-123")
        .setAgentCvmClientCert(ByteString.copyFromUtf8("-----BEGIN CERTIFICATE-----\ncert\n"))
        .setAgentCvmClientKey(ByteString.copyFromUtf8("-----BEGIN PRIVATE KEY-----\nkey\n"))
        .setAgentCvmServerCaCert(ByteString.copyFromUtf8("-----BEGIN CERTIFICATE-----\nca\n"))
        .setAaKbsParams("cc_kbc::http://10.0.2.2:8080")
        .build();
  }

  private static String awaitAgent(int port) {
    AtomicReference<String> line = new AtomicReference<>();
    await().atMost(BOOT).pollInterval(Duration.ofMillis(250))
        .until(() -> AgentProbe.readLine(port).map(l -> {
          line.set(l);
          return true;
        }).orElse(false));
    return line.get();
  }

  @Test
  void createVmBootsTheGuestAndRemoveVmLeavesNothing(@TempDir Path stateDir) throws Exception {
    PortRange ports = TestPorts.range(10);
    try (TestManager manager = TestManager.start(stateDir, ports, Map.of())) {
      CreateRes created = manager.create(withCertificates()).response();
      String id = created.getCvmId();
      int port = Integer.parseInt(created.getForwardedPort());
      assertTrue(ports.contains(port), "port " + port);

      Path dir = manager.vmDir(id);
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("certs"))));
      assertEquals("rw-------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("certs/key.pem"))));
      assertEquals("rw-------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("env/environment"))));

      CVMInfoRes info = manager.info(id).response();
      assertEquals(id, info.getId());
      assertEquals("console=ttyS0 agent.aa_kbc_params=cc_kbc::http://10.0.2.2:8080", info.getKernelCmd());

      assertEquals("cvm-agent ready id=" + id + " certs=ca.pem,cert.pem,key.pem", awaitAgent(port));

      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      assertEquals(GrpcStatus.NOT_FOUND, manager.info(id).status());
      manager.assertNothingLeft();
    }
  }

  @Test
  void diskModeBootsFromThePerVmDiskSizedFromTheReference(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, TestPorts.range(10),
        Map.of("MANAGER_QEMU_ENABLE_DISK", "true"))) {
      CreateRes created = manager.create(withCertificates()).response();
      String id = created.getCvmId();
      Path disk = manager.vmDir(id).resolve("disk.qcow2");

      assertEquals("cvm-agent ready id=" + id + " certs=ca.pem,cert.pem,key.pem",
          awaitAgent(Integer.parseInt(created.getForwardedPort())));
      JsonArray blocks = queryBlock(manager, id);
      JsonObject disk0 = blocks.stream().map(JsonObject.class::cast)
          .filter(b -> "disk0".equals(b.getString("device"))).findFirst().orElseThrow();
      JsonObject image = disk0.getJsonObject("inserted").getJsonObject("image");
      assertEquals(disk.toString(), image.getString("filename"));
      long referenceBytes = new JsonObject(qemuImgInfo(DevGuest.disk())).getLong("virtual-size");
      assertEquals(DiskSize.forReference(referenceBytes), image.getLong("virtual-size"));
      assertEquals(2L << 30, image.getLong("virtual-size"), "64 MiB reference: ceil(0.0625 GiB) + 1 GiB = 2 GiB");
      assertTrue(manager.info(id).response().getKernelCmd().contains("console=ttyS0"));

      assertEquals(GrpcStatus.OK, manager.remove(id).status());
      manager.assertNothingLeft();
    }
  }

  /** QEMU serves one QMP client, the manager; the launcher answers read-only queries over the event bus. */
  private static JsonArray queryBlock(TestManager manager, String id) {
    return (JsonArray) Bus.of(manager.vertx()).request(Addresses.VM_QMP_QUERY, new QmpQuery(id, "query-block"),
        Duration.ofSeconds(10)).await().value();
  }

  private static String qemuImgInfo(Path image) throws Exception {
    Process p = new ProcessBuilder("qemu-img", "info", "-U", "--output=json", image.toString()).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
