package io.cvmmanager.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.cvm.Vm;
import io.cvmmanager.api.manager.RemoveReq;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.health.v1.HealthCheckRequest;
import io.vertx.grpc.health.v1.HealthCheckResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Packaged managers (the jar, dev profile) one after another on one state dir, free gRPC and HTTP ports and a port
 * range of the test's, with a real gRPC client: what the tests of restarts share. {@link #close} ends every
 * manager and any QEMU of the state dir a failed test left; {@link #assertNothingLeft} checks what a passing test
 * must leave: no QEMU, no VM directory, no port of the range held.
 */
public final class JarManagers implements AutoCloseable {
  public static final String MANAGER = "manager.ManagerService";
  public static final String CVM = "cvm.v1.CvmService";

  private final Path dir;
  private final Path stateDir;
  private final int firstPort;
  private final int lastPort;
  private final Map<String, String> settings = new HashMap<>();
  private final List<ManagerProcess> managers = new ArrayList<>();
  private final Vertx vertx = Vertx.vertx();
  private final GrpcClient client;
  private final SocketAddress server;

  /** Paused VMs of 128 MiB, no VM limit; {@link #settings} changes them before {@link #start}. */
  public JarManagers(Path dir, int firstPort, int lastPort) {
    this(dir, firstPort, lastPort, FreePort.next(), FreePort.next());
  }

  /** As {@link #JarManagers(Path, int, int)}, its gRPC and HTTP on the given ports. */
  public JarManagers(Path dir, int firstPort, int lastPort, int grpcPort, int httpPort) {
    this.dir = dir;
    this.stateDir = dir.resolve("state");
    this.firstPort = firstPort;
    this.lastPort = lastPort;
    settings.put("MANAGER_GRPC_PORT", String.valueOf(grpcPort));
    settings.put("MANAGER_HTTP_PORT", String.valueOf(httpPort));
    settings.put("MANAGER_STATE_DIR", stateDir.toString());
    settings.put("MANAGER_QEMU_HOST_FWD_RANGE", firstPort + "-" + lastPort);
    settings.put("MANAGER_QEMU_START_PAUSED", "true");
    settings.put("MANAGER_QEMU_MEMORY_SIZE", "128M");
    settings.put("MANAGER_MAX_VMS", "0");
    client = UnaryCall.client(vertx,
        new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    server = SocketAddress.inetSocketAddress(grpcPort, "localhost");
  }

  /** As {@link #JarManagers(Path, int, int)}, its QEMU the fake one with {@code faults}. */
  public static JarManagers withFakeQemu(Path dir, int firstPort, int lastPort, String... faults) {
    JarManagers managers = new JarManagers(dir, firstPort, lastPort);
    managers.settings.put("MANAGER_QEMU_BIN_PATH", FakeQemu.binary(dir, faults).toString());
    return managers;
  }

  /** The output file of each manager started. */
  public List<Path> outputs() {
    return managers.stream().map(ManagerProcess::outputFile).toList();
  }

  public Map<String, String> settings() {
    return settings;
  }

  public Path stateDir() {
    return stateDir;
  }

  public GrpcClient client() {
    return client;
  }

  public SocketAddress server() {
    return server;
  }

  /** A manager with {@link #settings}, once its gRPC health says SERVING. */
  public ManagerProcess start() throws Exception {
    Path output = Files.createDirectories(dir.resolve("out-" + managers.size()));
    ManagerProcess manager = ManagerProcess.start(Path.of("conf/dev.env"), settings, output);
    managers.add(manager);
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .untilAsserted(() -> {
          assertTrue(manager.isAlive(), "manager exited:\n" + manager.output());
          UnaryCall.Result<HealthCheckResponse> health = this.<HealthCheckRequest, HealthCheckResponse>call(
              "grpc.health.v1.Health", "Check", HealthCheckRequest.newBuilder().setService("manager").build(),
              HealthCheckResponse.newBuilder()).await();
          assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.response().getStatus());
        });
    return manager;
  }

  public <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
      Future<UnaryCall.Result<Resp>> call(String service, String method, Req request,
          com.google.protobuf.Message.Builder response) {
    return UnaryCall.call(client, server, service, method, request, response);
  }

  /** A server stream of this manager's: every message goes to {@code onMessage}; cancel by closing the client. */
  public <Req extends com.google.protobuf.Message, Resp> Future<io.vertx.grpc.client.GrpcClientResponse<Req, Resp>>
      stream(String service, String method, Req request, com.google.protobuf.Message.Builder responseBuilder,
          io.vertx.core.Handler<Resp> onMessage) {
    return UnaryCall.stream(client, server, service, method, request, responseBuilder, onMessage);
  }

  public UnaryCall.Result<Empty> remove(String id) {
    return this.<RemoveReq, Empty>call(MANAGER, "RemoveVm", RemoveReq.newBuilder().setCvmId(id).build(),
        Empty.newBuilder()).await();
  }

  public List<Vm> list() {
    return this.<ListVmsRequest, ListVmsResponse>call(CVM, "ListVms", ListVmsRequest.getDefaultInstance(),
        ListVmsResponse.newBuilder()).await().response().getVmsList();
  }

  public JsonObject state(String id) throws IOException {
    return new JsonObject(Files.readString(stateDir.resolve("vms").resolve(id).resolve("state.json")));
  }

  public List<String> vmDirs() throws IOException {
    try (Stream<Path> dirs = Files.list(stateDir.resolve("vms"))) {
      return dirs.map(p -> p.getFileName().toString()).toList();
    }
  }

  /** Live QEMUs of this state dir. */
  public List<Long> qemuProcesses() {
    return TestManager.liveProcessesMentioning(stateDir.toString());
  }

  public void assertNothingLeft() throws IOException {
    assertEquals(List.of(), qemuProcesses(), "QEMU processes left");
    assertEquals(List.of(), vmDirs(), "VM directories left");
    for (int port = firstPort; port <= lastPort; port++) {
      assertTrue(TestManager.bindable(port), "port " + port + " still held");
    }
  }

  @Override
  public void close() throws Exception {
    for (ManagerProcess manager : managers) {
      manager.close();
    }
    // Whatever a failed run left: no QEMU of this test may outlive it.
    qemuProcesses().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    client.close().await();
    vertx.close().await();
  }
}
