package io.cvmmanager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.config.PortRange;
import io.cvmmanager.testing.FreePort;
import io.cvmmanager.testing.TestCerts;
import io.cvmmanager.testing.TestManager;
import io.cvmmanager.testing.TestPorts;
import io.vertx.grpc.common.GrpcStatus;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cvmctl in this JVM, with its own environment and streams, against a whole manager (QEMU started paused). */
class CvmctlIT {
  private static final PortRange PORTS = TestPorts.range(10);
  private static final Map<String, String> PAUSED = Map.of("MANAGER_QEMU_START_PAUSED", "true");
  private static final Pattern CREATED =
      Pattern.compile("Virtual machine created successfully with id (\\S+) and port (\\d+)\n");

  private static Map<String, String> envFor(TestManager manager) {
    return Map.of(ManagerConnection.URL, "localhost:" + manager.config().grpc().port());
  }

  /** The id from upstream's success line, after checking the line, the id's form and the port. */
  private static String createdId(CvmctlRun run) {
    assertEquals(0, run.exit(), run.err());
    Matcher line = CREATED.matcher(run.out());
    assertTrue(line.matches(), "upstream's line, got: " + run.out());
    assertEquals(line.group(1), UUID.fromString(line.group(1)).toString());
    assertTrue(PORTS.contains(Integer.parseInt(line.group(2))), "port " + line.group(2));
    return line.group(1);
  }

  @Test
  void createVmPrintsUpstreamsLineAndRemoveVmRemovesTheVm(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      String id = createdId(CvmctlRun.of(envFor(manager), "create-vm", "--server-url", "cvms.example:7001", "--ttl", "10m"));
      assertEquals(id, manager.info(id).response().getId());

      CvmctlRun removed = CvmctlRun.of(envFor(manager), "remove-vm", id);
      assertEquals(0, removed.exit(), removed.err());
      assertEquals("Virtual machine removed successfully with id " + id + "\n", removed.out());
      assertEquals(GrpcStatus.NOT_FOUND, manager.info(id).status());
    }
  }

  @Test
  void invalidTtlFailsWithTheManagersStatusAndMessage(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      CvmctlRun run = CvmctlRun.of(envFor(manager), "create-vm", "--server-url", "cvms.example:7001", "--ttl", "abc");
      assertEquals(1, run.exit());
      assertEquals("", run.out());
      assertTrue(run.err().startsWith("error: INVALID_ARGUMENT: ttl: "), run.err());
      assertTrue(run.err().contains("\"abc\""), run.err());
      assertEquals(List.of(), manager.vmDirs());
    }
  }

  @Test
  void everyFlagReachesTheVmAndNoSecretIsPrinted(@TempDir Path stateDir, @TempDir Path files) throws Exception {
    Path ca = Files.writeString(files.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nserver ca\n");
    Path crt = Files.writeString(files.resolve("client.crt"), "-----BEGIN CERTIFICATE-----\nclient\n");
    Path key = Files.writeString(files.resolve("client.key"), "-----BEGIN PRIVATE KEY-----\nsecret key\n");
    String awsSecret = "aws-secret-" + UUID.randomUUID();
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      CvmctlRun run = CvmctlRun.of(envFor(manager), "create-vm", "--server-url", "cvms.example:7001",
          "--server-ca", ca.toString(), "--client-crt", crt.toString(), "--client-key", key.toString(),
          "--ca-url", "https://ca.example", "--log-level", "debug", "--ttl", "1h",
          "--aws-access-key-id", "AKIA1", "--aws-secret-access-key", awsSecret,
          "--aws-endpoint-url", "http://minio:9000", "--aws-region", "eu-1",
          "--aa-kbs-params", "cc_kbc::http://10.0.2.2:8080");
      String id = createdId(run);
      assertFalse((run.out() + run.err()).contains(awsSecret), "the AWS secret is printed");
      assertFalse((run.out() + run.err()).contains("secret key"), "the key is printed");

      Path certs = manager.vmDir(id).resolve("certs");
      assertEquals(Files.readString(ca), Files.readString(certs.resolve("ca.pem")));
      assertEquals(Files.readString(crt), Files.readString(certs.resolve("cert.pem")));
      assertEquals(Files.readString(key), Files.readString(certs.resolve("key.pem")));
      List<String> environment = Files.readAllLines(manager.vmDir(id).resolve("env/environment"));
      for (String entry : List.of("AGENT_CVM_GRPC_URL='cvms.example:7001'", "AGENT_CVM_CA_URL='https://ca.example'",
          "AGENT_LOG_LEVEL='debug'", "AWS_ACCESS_KEY_ID='AKIA1'", "AWS_SECRET_ACCESS_KEY='" + awsSecret + "'",
          "AWS_ENDPOINT_URL='http://minio:9000'", "AWS_REGION='eu-1'")) {
        assertTrue(environment.contains(entry), entry + " in " + environment);
      }
      assertTrue(manager.info(id).response().getKernelCmd().endsWith(" agent.aa_kbc_params=cc_kbc::http://10.0.2.2:8080"));

      assertEquals(0, CvmctlRun.of(envFor(manager), "remove-vm", id).exit());
    }
  }

  @Test
  void unreadableFileFailsBeforeAnyCall() {
    CvmctlRun run = CvmctlRun.of(Map.of(ManagerConnection.URL, "localhost:" + FreePort.next()), "create-vm",
        "--server-url", "cvms.example:7001", "--client-crt", "/nonexistent/client.crt");
    assertEquals(1, run.exit());
    assertEquals("error: --client-crt: /nonexistent/client.crt: no such file\n", run.err());
  }

  @Test
  void mutualTlsManagerServesTheEnvironmentsCertificateAndRefusesWithout(@TempDir Path stateDir,
      @TempDir Path pki) throws Exception {
    TestCerts certs = TestCerts.create(pki);
    Map<String, String> tls = new HashMap<>(PAUSED);
    tls.put("MANAGER_GRPC_SERVER_CERT", certs.serverCert().toString());
    tls.put("MANAGER_GRPC_SERVER_KEY", certs.serverKey().toString());
    tls.put("MANAGER_GRPC_CLIENT_CA_CERTS", certs.caCert().toString());
    try (TestManager manager = TestManager.start(stateDir, PORTS, tls)) {
      Map<String, String> trusting = new HashMap<>(envFor(manager));
      trusting.put(ManagerConnection.SERVER_CA_CERTS, certs.caCert().toString());
      CvmctlRun refused = CvmctlRun.of(trusting, "create-vm", "--server-url", "cvms.example:7001");
      assertEquals(1, refused.exit());
      assertTrue(refused.err().startsWith("error: UNAVAILABLE: "), refused.err());
      assertEquals(List.of(), manager.vmDirs());

      Map<String, String> mutual = new HashMap<>(trusting);
      mutual.put(ManagerConnection.CLIENT_CERT, certs.clientCert().toString());
      mutual.put(ManagerConnection.CLIENT_KEY, certs.clientKey().toString());
      String id = createdId(CvmctlRun.of(mutual, "create-vm", "--server-url", "cvms.example:7001"));
      assertEquals(0, CvmctlRun.of(mutual, "remove-vm", id).exit());
      assertEquals(List.of(), manager.vmDirs());
    }
  }

  @Test
  void tlsFileThatCannotBeReadIsNamed() {
    CvmctlRun run = CvmctlRun.of(Map.of(ManagerConnection.SERVER_CA_CERTS, "/nonexistent/ca.pem"), "remove-vm", "some-id");
    assertEquals(1, run.exit());
    assertEquals("error: MANAGER_GRPC_SERVER_CA_CERTS: cannot read /nonexistent/ca.pem\n", run.err());
  }

  @Test
  void clientCertificateWithoutCaIsIgnoredAsCocosCliDoesWithAWarning(@TempDir Path stateDir) throws Exception {
    try (TestManager manager = TestManager.start(stateDir, PORTS, PAUSED)) {
      Map<String, String> env = new HashMap<>(envFor(manager));
      env.put(ManagerConnection.CLIENT_CERT, "/nonexistent/client.pem");
      env.put(ManagerConnection.CLIENT_KEY, "/nonexistent/client.key");
      CvmctlRun run = CvmctlRun.of(env, "create-vm", "--server-url", "cvms.example:7001");
      String id = createdId(run);
      assertTrue(run.err().startsWith("warning: MANAGER_GRPC_CLIENT_CERT/MANAGER_GRPC_CLIENT_KEY are ignored without "
          + "MANAGER_GRPC_SERVER_CA_CERTS"), run.err());
      assertEquals(0, CvmctlRun.of(envFor(manager), "remove-vm", id).exit());
    }
  }

  @Test
  void unreachableManagerIsUnavailable() {
    CvmctlRun run = CvmctlRun.of(Map.of(ManagerConnection.URL, "127.0.0.1:" + FreePort.next()), "remove-vm", "some-id");
    assertEquals(1, run.exit());
    assertTrue(run.err().startsWith("error: UNAVAILABLE: "), run.err());
  }

  @Test
  void silentManagerIsDeadlineExceededAfterTheTimeout() throws Exception {
    // Connections complete in the kernel's backlog; nothing ever answers the HTTP/2 preface.
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      CvmctlRun run = CvmctlRun.of(Map.of(ManagerConnection.URL, "127.0.0.1:" + silent.getLocalPort()),
          "remove-vm", "--timeout", "300ms", "some-id");
      assertEquals(1, run.exit());
      assertEquals("error: DEADLINE_EXCEEDED: no answer from 127.0.0.1:" + silent.getLocalPort() + " within 300ms\n",
          run.err());
    }
  }

  /** A stream waits for the manager's response headers no longer than the timeout either. */
  @Test
  void silentManagerIsDeadlineExceededForAStreamToo() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      CvmctlRun run = CvmctlRun.of(Map.of(ManagerConnection.URL, "127.0.0.1:" + silent.getLocalPort()),
          "events", "--timeout", "300ms");
      assertEquals(1, run.exit());
      assertEquals("error: DEADLINE_EXCEEDED: no answer from 127.0.0.1:" + silent.getLocalPort() + " within 300ms\n",
          run.err());
    }
  }

  @Test
  void managerAddressThatIsNotHostAndPortIsNamed() {
    CvmctlRun run = CvmctlRun.of(Map.of(ManagerConnection.URL, "localhost"), "remove-vm", "some-id");
    assertEquals(1, run.exit());
    assertEquals("error: MANAGER_GRPC_URL: \"localhost\" is not host:port\n", run.err());
  }

  @Test
  void invalidTimeoutIsAUsageError() {
    CvmctlRun run = CvmctlRun.of(Map.of(), "--timeout", "10", "remove-vm", "some-id");
    assertEquals(Cvmctl.EXIT_USAGE, run.exit());
    assertTrue(run.err().startsWith("Invalid value for option '--timeout': missing unit"), run.err());
  }
}
