package io.cvmmanager.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import io.cvmmanager.Manager;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.ListVmsResponse;
import io.cvmmanager.api.manager.CVMInfoReq;
import io.cvmmanager.api.manager.CVMInfoRes;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.HostFacts;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.PortRange;
import io.cvmmanager.config.StartupChecks;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.cvmmanager.vm.Tee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A whole manager (every verticle, real QEMU) in this JVM, on a temp state dir, free gRPC and HTTP ports and its own
 * port range, with metrics and tracing as the jar has them (spans go to {@code COCOS_JAEGER_URL}), and a real gRPC
 * client. {@link #close} stops it and asserts that nothing is left behind: no QEMU of
 * this manager, no VM directory, no port of its range held.
 */
public final class TestManager implements AutoCloseable {
  /**
   * Bounds each /health and /metrics fetch: one that hangs then fails with a timeout an Awaitility retry can outlive
   * and report, instead of a condition that never returns (reported as "null").
   */
  private static final java.time.Duration HTTP_TIMEOUT = java.time.Duration.ofSeconds(5);
  public static final String MANAGER = "manager.ManagerService";

  private final Vertx vertx;
  private final Manager manager;
  private final ManagerConfig config;
  private final Tracing tracing;
  /**
   * The test's clients run on a Vert.x of their own, as a real client does: the manager's event loops then carry only
   * the manager's work, which is what the tests that watch them for blocking measure.
   */
  private final Vertx clientVertx = Vertx.vertx();
  private final GrpcClient client;
  private final SocketAddress server;

  private TestManager(Vertx vertx, Manager manager, ManagerConfig config, Tracing tracing) {
    this.vertx = vertx;
    this.manager = manager;
    this.config = config;
    this.tracing = tracing;
    this.client = UnaryCall.client(clientVertx,
        new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    this.server = SocketAddress.inetSocketAddress(config.grpc().port(), "localhost");
  }

  /** Options whose blocked-thread checker warns of an event loop held 50 ms (checked every 10 ms), not 2 s. */
  public static VertxOptions fiftyMillisecondLoops() {
    return new VertxOptions().setMaxEventLoopExecuteTime(50)
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS).setBlockedThreadCheckInterval(10)
        .setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS).setWarningExceptionTime(50)
        .setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS);
  }

  /** Dev-profile settings (TCG, the dev guest), {@code overrides} on top. */
  public static TestManager start(Path stateDir, PortRange ports, Map<String, String> overrides) throws Exception {
    return start(ConfigParser.parse(values(stateDir, ports, overrides), Path.of("/root"), true), Tee.NONE);
  }

  /** As {@link #start(Path, PortRange, Map)}, on a Vert.x built with {@code options} (e.g. a tighter blocked-thread check). */
  public static TestManager start(Path stateDir, PortRange ports, Map<String, String> overrides, VertxOptions options)
      throws Exception {
    return start(ConfigParser.parse(values(stateDir, ports, overrides), Path.of("/root"), true), Tee.NONE, options);
  }

  /**
   * As {@link #start(Path, PortRange, Map)}, with the jar's host checks ({@link StartupChecks}) deciding the TEE and
   * the QEMU binary: with MANAGER_HOST_ROOT on a fake tree and a QEMU stand-in, SEV-SNP and TDX run end to end.
   */
  public static TestManager startChecked(Path stateDir, PortRange ports, Map<String, String> overrides)
      throws Exception {
    ManagerConfig parsed = ConfigParser.parse(values(stateDir, ports, overrides), Path.of("/root"), true);
    StartupChecks.Checked checked = StartupChecks.check(parsed, HostFacts.detect(parsed.hostRoot()),
        System.getenv("PATH"));
    return start(checked.config(), checked.tee());
  }

  private static Map<String, String> values(Path stateDir, PortRange ports, Map<String, String> overrides) {
    Map<String, String> values = new HashMap<>();
    values.put("MANAGER_STATE_DIR", stateDir.toString());
    values.put("MANAGER_GRPC_PORT", String.valueOf(FreePort.next()));
    values.put("MANAGER_HTTP_PORT", String.valueOf(FreePort.next()));
    values.put("MANAGER_QEMU_HOST_FWD_RANGE", ports.toString());
    values.put("MANAGER_QEMU_ENABLE_KVM", "false");
    values.put("MANAGER_QEMU_ENABLE_SEV_SNP", "false");
    values.put("MANAGER_QEMU_ENABLE_TDX", "false");
    values.put("MANAGER_QEMU_CPU", "max");
    values.put("MANAGER_QEMU_SMP_COUNT", "1");
    values.put("MANAGER_QEMU_MEMORY_SIZE", "1024M");
    values.put("MANAGER_QEMU_KERNEL_CMDLINE", "console=ttyS0");
    values.put("MANAGER_QEMU_DISK_IMG_KERNEL_FILE", DevGuest.kernel().toString());
    values.put("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", DevGuest.rootfs().toString());
    values.put("MANAGER_QEMU_SRC_DISK_FILE", DevGuest.disk().toString());
    values.put("MANAGER_QEMU_STOP_GRACE", "5s");
    values.put("MANAGER_AGENT_PROBE_INTERVAL", "1s");
    values.put("MANAGER_LOG_FORMAT", "text");
    // Admission reads this machine's memory and CPUs: paused or idle TCG guests touch little of their 1024M and
    // need no CPU of their own, so tests of other things are not limited by them. Tests of admission set a fake
    // host tree (MANAGER_HOST_ROOT) and the ratios they test.
    values.put("MANAGER_MEMORY_OVERCOMMIT", "100");
    values.put("MANAGER_CPU_OVERCOMMIT", "1000");
    // Tests end with nothing left behind; tests of adoption set it false to leave VMs to a next manager.
    values.put("MANAGER_STOP_VMS_ON_EXIT", "true");
    values.putAll(overrides);
    return values;
  }

  private static TestManager start(ManagerConfig config, Tee tee) throws Exception {
    return start(config, tee, new VertxOptions());
  }

  private static TestManager start(ManagerConfig config, Tee tee, VertxOptions options) throws Exception {
    Files.createDirectories(config.stateDir().resolve("vms"));
    ManagerMetrics metrics = ManagerMetrics.create();
    Vertx vertx = metrics.vertxBuilder(options).build();
    Tracing tracing = Tracing.start(config);
    Manager manager = Manager.start(vertx, config, tee, metrics, tracing).await();
    return new TestManager(vertx, manager, config, tracing);
  }

  public ManagerConfig config() {
    return config;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Path vmDir(String id) {
    return config.stateDir().resolve("vms").resolve(id);
  }

  public <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
      UnaryCall.Result<Resp> call(String method, Req request, com.google.protobuf.Message.Builder response) {
    return call(MANAGER, method, request, response);
  }

  public <Req extends com.google.protobuf.Message, Resp extends com.google.protobuf.Message>
      UnaryCall.Result<Resp> call(String service, String method, Req request,
          com.google.protobuf.Message.Builder response) {
    return UnaryCall.<Req, Resp>call(client, server, service, method, request, response).await();
  }

  public UnaryCall.Result<CreateRes> create(CreateReq request) {
    return call("CreateVm", request, CreateRes.newBuilder());
  }

  /** A call of upstream's service with {@code payload} as its request bytes, as they are. */
  public UnaryCall.Result<io.vertx.core.buffer.Buffer> raw(String method, io.vertx.core.buffer.Buffer payload) {
    return UnaryCall.raw(client, server, MANAGER, method, payload).await();
  }

  public Future<UnaryCall.Result<CreateRes>> createAsync(CreateReq request) {
    return UnaryCall.call(client, server, MANAGER, "CreateVm", request, CreateRes.newBuilder());
  }

  public UnaryCall.Result<Empty> remove(String id) {
    return removeAsync(id).await();
  }

  public Future<UnaryCall.Result<Empty>> removeAsync(String id) {
    return UnaryCall.call(client, server, MANAGER, "RemoveVm", RemoveReq.newBuilder().setCvmId(id).build(),
        Empty.newBuilder());
  }

  public UnaryCall.Result<CVMInfoRes> info(String id) {
    return call("CVMInfo", CVMInfoReq.newBuilder().setId(id).build(), CVMInfoRes.newBuilder());
  }

  /** A server stream of this manager's: every message goes to {@code onMessage}; cancel by closing the client. */
  public <Req extends com.google.protobuf.Message, Resp> Future<io.vertx.grpc.client.GrpcClientResponse<Req, Resp>>
      stream(String service, String method, Req request, com.google.protobuf.Message.Builder responseBuilder,
          io.vertx.core.Handler<Resp> onMessage) {
    return UnaryCall.stream(client, server, service, method, request, responseBuilder, onMessage);
  }

  /** This manager's /metrics, parsed. */
  public io.cvmmanager.metrics.PrometheusText metrics() {
    var http = vertx.createHttpClient();
    try {
      String body = http.request(io.vertx.core.http.HttpMethod.GET, config.http().port(), "localhost", "/metrics")
          .compose(request -> request.send())
          .compose(response -> response.body())
          .timeout(HTTP_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .await().toString();
      return io.cvmmanager.metrics.PrometheusText.parse(body);
    } finally {
      http.close().await();
    }
  }

  /** This manager's /health body. */
  public io.vertx.core.json.JsonObject health() {
    var http = vertx.createHttpClient();
    try {
      return http.request(io.vertx.core.http.HttpMethod.GET, config.http().port(), "localhost", "/health")
          .compose(request -> request.send())
          .compose(response -> response.body())
          .map(io.vertx.core.buffer.Buffer::toJsonObject)
          .timeout(HTTP_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .await();
    } finally {
      http.close().await();
    }
  }

  /** A separate gRPC client, e.g. one that stops reading. */
  public GrpcClient newClient() {
    return UnaryCall.client(clientVertx,
        new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
  }

  public SocketAddress server() {
    return server;
  }

  /** PIDs of live processes whose command line mentions this manager's state dir: its QEMUs. */
  public List<Long> qemuProcesses() {
    return liveProcessesMentioning(config.stateDir().toString());
  }

  /** Live processes (zombies are dead: one whose reaper never comes is no running QEMU) whose command line has it. */
  public static List<Long> liveProcessesMentioning(String marker) {
    return ProcessHandle.allProcesses()
        .filter(p -> commandLine(p.pid()).contains(marker))
        .filter(p -> !isZombie(p.pid()))
        .map(ProcessHandle::pid)
        .toList();
  }

  private static String commandLine(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static boolean isZombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return false;
    }
  }

  /** VM directories under the state dir. */
  public List<String> vmDirs() throws IOException {
    try (Stream<Path> dirs = Files.list(config.stateDir().resolve("vms"))) {
      return dirs.map(p -> p.getFileName().toString()).toList();
    }
  }

  /** Nothing left on the host (see {@link #assertNothingOnHostLeft}), and no VM in the table (ListVms). */
  public void assertNothingLeft() throws IOException {
    UnaryCall.Result<ListVmsResponse> listed = call("cvm.v1.CvmService", "ListVms",
        ListVmsRequest.getDefaultInstance(), ListVmsResponse.newBuilder());
    assertEquals(GrpcStatus.OK, listed.status(), listed.message());
    assertEquals(List.of(), listed.response().getVmsList(), "VMs left in the table");
    assertNothingOnHostLeft();
  }

  /** No QEMU of this manager, no VM directory, no port of its range held. */
  public void assertNothingOnHostLeft() throws IOException {
    assertEquals(List.of(), qemuProcesses(), "QEMU processes left");
    assertEquals(List.of(), vmDirs(), "VM directories left");
    PortRange range = config.qemu().net().hostFwdRange();
    for (int port = range.first(); port <= range.last(); port++) {
      assertTrue(bindable(port), "port " + port + " still held");
    }
  }

  public static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("0.0.0.0", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Stops the manager without the leftover check, for a manager started with MANAGER_STOP_VMS_ON_EXIT=false whose
   * VMs are left running for the next one; that one's {@link #close} then checks.
   */
  public void stopLeavingVms() throws Exception {
    client.close().await();
    clientVertx.close().await();
    manager.stop().await();
    tracing.close().await();
    vertx.close().await();
  }

  /** Stops the manager (which stops its VMs), then asserts nothing is left. */
  @Override
  public void close() throws Exception {
    try {
      client.close().await();
      clientVertx.close().await();
      manager.stop().await();
      tracing.close().await();
      vertx.close().await();
    } finally {
      assertNothingOnHostLeft();
    }
  }
}
