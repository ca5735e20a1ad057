import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.cvm.DrainNodeRequest;
import io.cvmmanager.api.cvm.ListVmsRequest;
import io.cvmmanager.api.cvm.VmState;
import io.cvmmanager.api.manager.AttestationPolicyReq;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.ManagerServiceGrpcClient;
import io.cvmmanager.api.manager.RemoveReq;
import io.cvmmanager.config.ConfigParser;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.qemu.LaunchInput;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.testing.Soak;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * cvm-manager against raw QEMU on this machine, same arguments, same run. See bench/README.md.
 * (a) CreateVm → reply vs exec → QMP ready, one at a time; (b) 100 concurrent paused CreateVm vs 100 raw QEMU
 * starts in parallel; (c) the manager's threads and RSS with 0, 50, 100 VMs; (d) disk clone, overlay vs copy;
 * (h) soak: create/remove cycles, the manager's fds, threads, RSS and heap after GC every 100.
 */
public final class Bench {
  /** The manager under test: this build's jar, or another build's ({@code -Dbench.jar=}) to compare two. */
  private static final Path JAR = Path.of(System.getProperty("bench.jar", "target/cvm-manager.jar")).toAbsolutePath();
  private static final Path GUEST = Path.of(Optional.ofNullable(System.getenv("CVM_GUEST_DIR"))
      .orElse(System.getProperty("user.home") + "/.cache/cvm-manager/guest"));
  private static final int SEQUENTIAL_RUNS = Integer.getInteger("bench.runs", 20);
  private static final int CONCURRENT = Integer.getInteger("bench.concurrent", 100);
  private static final int ADOPTED = Integer.getInteger("bench.adopted", 100);
  private static final int BURST = Integer.getInteger("bench.burst", 20);
  private static final int BURST_RUNS = Integer.getInteger("bench.burstRuns", 3);

  public static void main(String[] args) throws Exception {
    Path work = Files.createTempDirectory("cvm-bench");
    try {
      System.out.printf("cvm-manager bench, %s, %d cores, %s%n", java.time.LocalDate.now(),
          Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
      // -Dbench.<name>Only=true runs only those scenarios; without one, every scenario runs.
      Map<String, List<Scenario>> only = new java.util.LinkedHashMap<>();
      only.put("quick", List.of(Bench::sequential, Bench::burst));
      only.put("sweep", List.of(Bench::sweep));
      only.put("burst", List.of(Bench::burst));
      only.put("adoption", List.of(Bench::adoption));
      only.put("soak", List.of(Bench::soak));
      only.put("create", List.of(Bench::sequential, Bench::burst, Bench::concurrent));
      only.put("cluster", List.of(Bench::cluster));
      only.put("attestation", List.of(Bench::attestationPolicy));
      only.put("death", List.of(Bench::deathDetection));
      List<Scenario> chosen = only.entrySet().stream().filter(e -> Boolean.getBoolean("bench." + e.getKey() + "Only"))
          .findFirst().map(Map.Entry::getValue)
          .orElse(List.of(Bench::sequential, Bench::burst, Bench::concurrent, Bench::sweep, Bench::diskClone,
              Bench::attestationPolicy, Bench::deathDetection, Bench::adoption, Bench::soak, Bench::cluster));
      for (Scenario scenario : chosen) {
        scenario.run(work);
      }
    } finally {
      run(List.of("rm", "-rf", work.toString()));
    }
  }

  /** One scenario of the bench, in the work directory. */
  private interface Scenario {
    void run(Path work) throws Exception;
  }

  /** The dev profile (TCG, the dev guest), as a manager environment and as a parsed config for raw QEMU. */
  private static Map<String, String> settings(Path stateDir, int firstPort, int lastPort, boolean paused) {
    Map<String, String> env = new HashMap<>();
    env.put("MANAGER_STATE_DIR", stateDir.toString());
    env.put("MANAGER_GRPC_PORT", String.valueOf(freePort()));
    env.put("MANAGER_HTTP_PORT", String.valueOf(freePort()));
    env.put("MANAGER_MAX_VMS", "0");
    // The benches compare managers, not hosts: paused TCG VMs touch little of their memory and no CPU, so
    // admission by this machine's memory and CPUs is not what limits them (it is tested with fake host trees).
    env.put("MANAGER_MEMORY_OVERCOMMIT", "100");
    env.put("MANAGER_CPU_OVERCOMMIT", "1000");
    env.put("MANAGER_QEMU_HOST_FWD_RANGE", firstPort + "-" + lastPort);
    env.put("MANAGER_QEMU_ENABLE_KVM", "false");
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "false");
    env.put("MANAGER_QEMU_ENABLE_TDX", "false");
    env.put("MANAGER_QEMU_CPU", "max");
    env.put("MANAGER_QEMU_SMP_COUNT", "1");
    env.put("MANAGER_QEMU_MEMORY_SIZE", "1024M");
    env.put("MANAGER_QEMU_KERNEL_CMDLINE", "console=ttyS0");
    env.put("MANAGER_QEMU_DISK_IMG_KERNEL_FILE", GUEST.resolve("bzImage").toString());
    env.put("MANAGER_QEMU_DISK_IMG_ROOTFS_FILE", GUEST.resolve("rootfs.cpio.gz").toString());
    env.put("MANAGER_QEMU_START_PAUSED", String.valueOf(paused));
    return env;
  }

  // ---- (a) ----

  private static void sequential(Path work) throws Exception {
    Path state = Files.createDirectories(work.resolve("a"));
    Map<String, String> env = settings(state, 27100, 27199, false);
    ManagerConfig config = ConfigParser.parse(env, Path.of("/root"), true);
    List<Double> manager = new ArrayList<>();
    List<Double> raw = new ArrayList<>();
    List<Double> roundTrip = new ArrayList<>();
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("a.log"))) {
      for (int i = 0; i < 5; i++) {  // warm-up: JIT, first file-system and gRPC paths
        m.create();
        m.removeAll();
      }
      rawStart(config, work.resolve("raw-a"), 27200).stop();
      for (int i = 0; i < 200; i++) {
        roundTrip.add(m.timed(() -> m.client.cVMInfo(
            io.cvmmanager.api.manager.CVMInfoReq.newBuilder().setId("none").build()).otherwiseEmpty()));
      }
      Map<String, double[]> before = m.steps();
      Map<String, Double> threadsBefore = m.cpuByThread();
      double cpu = 0;
      for (int i = 0; i < SEQUENTIAL_RUNS; i++) {
        double cpu0 = m.cpuMillis();
        manager.add(m.timedCreate());
        cpu += m.cpuMillis() - cpu0;
        m.removeAll();
        RawQemu q = rawStart(config, work.resolve("raw-a"), 27200);
        raw.add(q.readyMillis);
        q.stop();
      }
      System.out.printf("    create steps, mean of %d: %s%n    manager CPU per create %.1f ms%n", SEQUENTIAL_RUNS,
          ManagerUnderTest.stepMeans(before, m.steps()), cpu / SEQUENTIAL_RUNS);
      System.out.printf("    CPU ms per create (creates and removes) by thread: %s%n",
          ManagerUnderTest.cpuGrowth(threadsBefore, m.cpuByThread(), SEQUENTIAL_RUNS));
    }
    System.out.printf("(a) one VM at a time, %d runs: CreateVm->reply median %.1f ms (p90 %.1f); raw exec->QMP ready"
            + " median %.1f ms (p90 %.1f); ratio %.2fx%n", SEQUENTIAL_RUNS, median(manager), p90(manager),
        median(raw), p90(raw), median(manager) / median(raw));
    System.out.printf("    for scale: a gRPC round trip through the API and the launcher (CVMInfo of an unknown id)"
        + " takes %.2f ms median%n", median(roundTrip));
  }

  // ---- (a2) ----

  /**
   * BURST paused CreateVm at once until all replied, against BURST raw QEMU execs from as many threads until all are
   * QMP-ready, BURST_RUNS times interleaved; with the manager's CPU per create and its step means over the bursts.
   */
  private static void burst(Path work) throws Exception {
    Path state = Files.createDirectories(work.resolve("a2"));
    Map<String, String> env = settings(state, 27300, 27300 + BURST + 20, true);
    ManagerConfig config = ConfigParser.parse(env, Path.of("/root"), true);
    List<Double> manager = new ArrayList<>();
    List<Double> raw = new ArrayList<>();
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("a2.log"))) {
      for (int i = 0; i < 3; i++) {  // warm-up: the JIT, the pools
        m.createConcurrently(BURST);
        m.removeAll();
      }
      Map<String, double[]> before = m.steps();
      Map<String, Double> threadsBefore = m.cpuByThread();
      double cpu = 0;
      for (int r = 0; r < BURST_RUNS; r++) {
        double cpu0 = m.cpuMillis();
        long t0 = System.nanoTime();
        m.createConcurrently(BURST);
        manager.add((System.nanoTime() - t0) / 1e6);
        cpu += m.cpuMillis() - cpu0;
        m.removeAll();
        raw.add(rawBurstAndQuit(config, work, BURST)[0]);
      }
      System.out.printf("(a2) %d paused VMs at once, %d runs: manager %s ms; raw %s ms; ratio of medians %.2fx%n"
              + "    manager CPU per create %.1f ms; step means: %s%n", BURST, BURST_RUNS, manager, raw,
          median(manager) / median(raw), cpu / (BURST_RUNS * BURST), ManagerUnderTest.stepMeans(before, m.steps()));
      System.out.printf("    CPU ms per create (creates and removes) by thread: %s%n",
          ManagerUnderTest.cpuGrowth(threadsBefore, m.cpuByThread(), BURST_RUNS * BURST));
    }
  }

  // ---- (j) ----

  /** The concurrency levels of the sweep ({@code -Dbench.sweep=1,5,10,20,50,100}). */
  private static final List<Integer> SWEEP = java.util.Arrays.stream(
      System.getProperty("bench.sweep", "1,5,10,20,50,100").split(",")).map(String::trim).map(Integer::valueOf)
      .toList();
  private static final Path RESULTS = Path.of(System.getProperty("bench.results", "bench/results")).toAbsolutePath();

  /**
   * Peers side by side in one run: for each concurrency of SWEEP, that many paused VMs started at once by the
   * manager (CreateVm, all replied), by raw QEMU (execs from as many threads, all QMP-ready) and, when bench/peers.sh
   * can start it, by libvirt (createXML from as many connections, all returned), then all destroyed (RemoveVm; QMP
   * quit; virDomainDestroy); SWEEP_RUNS runs each, interleaved. The manager's threads and RSS at each VM count.
   * Writes latency.csv and resources.csv, and their PNG charts, into bench/results/.
   */
  private static void sweep(Path work) throws Exception {
    int runs = Integer.getInteger("bench.sweepRuns", 3);
    int most = SWEEP.stream().max(Integer::compare).orElse(1);
    Path state = Files.createDirectories(work.resolve("j"));
    Map<String, String> env = settings(state, 27300, 27300 + most + 20, true);
    ManagerConfig config = ConfigParser.parse(env, Path.of("/root"), true);
    boolean libvirt = startLibvirt();
    List<List<Object>> latency = new ArrayList<>();
    List<List<Object>> resources = new ArrayList<>();
    Map<String, List<Double>> destroys = new java.util.TreeMap<>();
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("j.log"))) {
      for (int i = 0; i < 3; i++) {  // warm-up: the JIT, the pools
        m.createConcurrently(20);
        m.removeAll();
      }
      resources.add(resourceRow(0, m));
      for (int n : SWEEP) {
        for (int r = 0; r < runs; r++) {
          long t0 = System.nanoTime();
          m.createConcurrently(n);
          latency.add(List.of("manager", "paused", n, r, (System.nanoTime() - t0) / 1e6));
          if (r == 0) {
            resources.add(resourceRow(n, m));
          }
          long d0 = System.nanoTime();
          m.removeAll();
          destroys.computeIfAbsent("manager " + n, k -> new ArrayList<>()).add((System.nanoTime() - d0) / 1e6);
          double[] raw = rawBurstAndQuit(config, work, n);
          latency.add(List.of("raw-qemu", "paused", n, r, raw[0]));
          destroys.computeIfAbsent("raw-qemu " + n, k -> new ArrayList<>()).add(raw[1]);
          if (libvirt) {
            for (io.vertx.core.json.JsonObject run : libvirtRuns(work, n, 1)) {
              latency.add(List.of("libvirt", "paused", n, r, run.getDouble("start_ms")));
              destroys.computeIfAbsent("libvirt " + n, k -> new ArrayList<>()).add(run.getDouble("destroy_ms"));
            }
          }
        }
      }
    } finally {
      if (libvirt) {
        run(List.of("bash", "bench/peers.sh", "stop"));
      }
    }
    Files.createDirectories(RESULTS);
    Charts.writeCsv(RESULTS.resolve("latency.csv"), Charts.LATENCY_HEADER, latency);
    Charts.writeCsv(RESULTS.resolve("resources.csv"), Charts.RESOURCES_HEADER, resources);
    Charts.latency(RESULTS.resolve("latency.csv"), RESULTS.resolve("latency.png"));
    Charts.resources(RESULTS.resolve("resources.csv"), RESULTS.resolve("resources.png"));
    System.out.printf("(j) paused VMs at once, median of %d runs, ms (ratio to raw QEMU):%n", runs);
    for (int n : SWEEP) {
      double raw = medianOf(latency, "raw-qemu", n);
      double manager = medianOf(latency, "manager", n);
      double lv = libvirt ? medianOf(latency, "libvirt", n) : Double.NaN;
      System.out.printf("    %3d at once: manager %.0f (%.2fx), raw QEMU %.0f, libvirt %s; destroy all: manager %.0f,"
              + " raw %.0f, libvirt %s%n", n, manager, manager / raw, raw,
          libvirt ? String.format("%.0f (%.2fx)", lv, lv / raw) : "not run",
          median(destroys.get("manager " + n)), median(destroys.get("raw-qemu " + n)),
          libvirt ? String.format("%.0f", median(destroys.get("libvirt " + n))) : "not run");
    }
    System.out.printf("    manager threads and RSS by VM count: %s%n    CSV and charts in %s%n", resources, RESULTS);
  }

  private static List<Object> resourceRow(int vms, ManagerUnderTest m) throws IOException {
    String status = Files.readString(Path.of("/proc/" + m.process.pid() + "/status"));
    long threads = Long.parseLong(field(status, "Threads:"));
    long rssKib = Long.parseLong(field(status, "VmRSS:").split("\\s+")[0]);
    return List.of(vms, threads, rssKib / 1024);
  }

  private static String field(String status, String name) {
    return status.lines().filter(l -> l.startsWith(name)).findFirst().orElseThrow().substring(name.length()).trim();
  }

  private static double medianOf(List<List<Object>> rows, String peer, int n) {
    return median(rows.stream().filter(r -> r.get(0).equals(peer) && r.get(2).equals(n))
        .map(r -> (Double) r.get(4)).collect(Collectors.toList()));
  }

  /** libvirt for the bench only (bench/peers.sh): installed and started if it can be; false if not. */
  private static boolean startLibvirt() {
    if (Boolean.getBoolean("bench.noLibvirt")) {
      return false;
    }
    try {
      run(List.of("bash", "bench/peers.sh", "start"));
      return true;
    } catch (Exception e) {
      System.out.println("    libvirt: not run (" + e.getMessage() + ")");
      return false;
    }
  }

  /** {@code runs} runs of {@code n} paused libvirt domains at once (bench/libvirt_peer.py), one JSON line each. */
  private static List<io.vertx.core.json.JsonObject> libvirtRuns(Path work, int n, int runs) throws Exception {
    Process p = new ProcessBuilder("/usr/bin/python3", "bench/libvirt_peer.py",
        "--kernel", GUEST.resolve("bzImage").toString(), "--initrd", GUEST.resolve("rootfs.cpio.gz").toString(),
        "--memory-mib", "1024", "--vcpus", "1", "--cmdline", "console=ttyS0", "--mode", "paused",
        "--concurrency", String.valueOf(n), "--runs", String.valueOf(runs), "--workdir", work.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("libvirt_peer.py failed (exit " + p.exitValue() + ")");
    }
    return out.lines().filter(l -> l.startsWith("{")).map(io.vertx.core.json.JsonObject::new).toList();
  }

  /**
   * {@code count} raw QEMU execs from as many threads until all are QMP-ready, then QMP quit of all at once: {start
   * ms, quit-until-all-exited ms}.
   */
  private static double[] rawBurstAndQuit(ManagerConfig config, Path work, int count) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(count);
    try {
      List<java.util.concurrent.Future<RawQemu>> raws = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < count; i++) {
        int n = i;
        raws.add(pool.submit(() -> rawStart(config, work.resolve("raw-sweep-" + n), 27700 + n)));
      }
      List<RawQemu> started = new ArrayList<>();
      for (java.util.concurrent.Future<RawQemu> f : raws) {
        started.add(f.get());
      }
      double startMs = (System.nanoTime() - t0) / 1e6;
      long d0 = System.nanoTime();
      List<java.util.concurrent.Future<?>> quits = new ArrayList<>();
      for (RawQemu q : started) {
        quits.add(pool.submit(() -> {
          q.stop();
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : quits) {
        f.get();
      }
      return new double[] {startMs, (System.nanoTime() - d0) / 1e6};
    } finally {
      pool.shutdown();
    }
  }

  // ---- (b) and (c) ----

  private static void concurrent(Path work) throws Exception {
    Path state = Files.createDirectories(work.resolve("b"));
    Map<String, String> env = settings(state, 27300, 27300 + CONCURRENT + 20, true);
    ManagerConfig config = ConfigParser.parse(env, Path.of("/root"), true);
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("b.log"))) {
      for (int i = 0; i < 20; i++) {  // a manager in service has run its code paths before: warm the JIT
        m.create();
      }
      m.removeAll();
      String idle = m.threadsAndRss();
      long t0 = System.nanoTime();
      List<Future<CreateRes>> creates = new ArrayList<>();
      m.createConcurrently(CONCURRENT);
      double managerMs = (System.nanoTime() - t0) / 1e6;
      long r0 = System.nanoTime();
      m.removeAll();
      double removeMs = (System.nanoTime() - r0) / 1e6;

      m.createConcurrently(CONCURRENT / 2);
      String half = m.threadsAndRss();
      m.createConcurrently(CONCURRENT - CONCURRENT / 2);
      String full = m.threadsAndRss();
      m.removeAll();

      double rawMs = rawBurstAndQuit(config, work, CONCURRENT)[0];
      System.out.printf("(b) %d paused VMs at once: all CreateVm replied in %.0f ms; raw QEMU, %d execs in parallel"
          + " to all QMP ready: %.0f ms; ratio %.2fx (RemoveVm of all: %.0f ms)%n", CONCURRENT, managerMs,
          CONCURRENT, rawMs, managerMs / rawMs, removeMs);
      System.out.printf("(c) manager threads and RSS: 0 VMs %s; %d VMs %s; %d VMs %s; all removed %s%n", idle,
          CONCURRENT / 2, half, CONCURRENT, full, m.threadsAndRss());
    }
  }

  // ---- (d) ----

  private static void diskClone(Path work) throws Exception {
    Path reference = GUEST.resolve("uvc_os.qcow2");
    Path big = work.resolve("big.qcow2");
    run(List.of("qemu-img", "create", "-q", "-f", "qcow2", big.toString(), "4G"));
    run(List.of("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1G", big.toString()));
    for (Path ref : List.of(reference, big)) {
      long refBytes = Files.size(ref);
      List<Double> overlay = new ArrayList<>();
      List<Double> copy = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        Path dst = work.resolve("clone.qcow2");
        long t0 = System.nanoTime();
        run(List.of("qemu-img", "create", "-q", "-f", "qcow2", "-b", ref.toString(), "-F", "qcow2", dst.toString(),
            "5G"));
        overlay.add((System.nanoTime() - t0) / 1e6);
        Files.delete(dst);
        t0 = System.nanoTime();
        run(List.of("qemu-img", "convert", "-q", "-O", "qcow2", ref.toString(), dst.toString()));
        run(List.of("qemu-img", "resize", "-q", "-f", "qcow2", dst.toString(), "5G"));
        copy.add((System.nanoTime() - t0) / 1e6);
        Files.delete(dst);
      }
      System.out.printf("(d) disk from %s (%d MiB allocated): overlay median %.1f ms; copy+resize median %.1f ms%n",
          ref.getFileName(), refBytes >> 20, median(overlay), median(copy));
    }
  }

  // ---- (e) ----

  /**
   * kill -9 of a VM's QEMU to the FAILED event on the client's WatchEvents stream, one VM at a time, so each
   * latency is the manager's alone.
   */
  private static void deathDetection(Path work) throws Exception {
    int kills = Integer.getInteger("bench.kills", 100);
    Path state = Files.createDirectories(work.resolve("e"));
    Map<String, String> env = settings(state, 27700, 27700 + kills + 10, true);
    env.put("MANAGER_QEMU_MEMORY_SIZE", "64M");
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("e.log"))) {
      Map<String, Long> failedAt = new java.util.concurrent.ConcurrentHashMap<>();
      io.vertx.grpc.client.GrpcClient grpc = GrpcClient.client(m.vertx,
          new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      io.cvmmanager.api.cvm.CvmServiceGrpcClient cvm = io.cvmmanager.api.cvm.CvmServiceGrpcClient.create(grpc,
          SocketAddress.inetSocketAddress(Integer.parseInt(env.get("MANAGER_GRPC_PORT")), "localhost"));
      cvm.watchEvents(io.cvmmanager.api.cvm.WatchEventsRequest.getDefaultInstance()).await()
          .handler(e -> {
            if (e.getType().equals("state") && e.getTo().equals("FAILED")) {
              failedAt.put(e.getId(), System.nanoTime());
            }
          });
      m.createConcurrently(kills);
      List<String> victims = new ArrayList<>(m.ids);
      m.ids.clear();
      List<Double> latencies = new ArrayList<>();
      for (String id : victims) {
        long pid = Long.parseLong(Files.readString(state.resolve("vms").resolve(id).resolve("qemu.pid")).trim());
        long t0 = System.nanoTime();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
        while (!failedAt.containsKey(id) && System.nanoTime() < deadline) {
          Thread.sleep(0, 200_000);
        }
        latencies.add((failedAt.getOrDefault(id, deadline) - t0) / 1e6);
      }
      Collections.sort(latencies);
      System.out.printf("(e) death detection, %d kill -9 of paused VMs one at a time, kill to FAILED event at the"
              + " client: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", kills, latencies.get(kills / 2),
          latencies.get((int) Math.ceil(kills * 0.99) - 1), latencies.get(kills - 1));
      grpc.close().await();
    }
    // The floor: the same QEMU killed, until its QMP socket reads end-of-file (the kernel tears the process down
    // before it closes its files), with no manager.
    ManagerConfig config = ConfigParser.parse(env, Path.of("/root"), true);
    List<Double> floor = new ArrayList<>();
    for (int i = 0; i < Math.min(kills, 30); i++) {
      RawQemu q = rawStart(config, work.resolve("raw-e"), 27700);
      ByteBuffer buffer = ByteBuffer.allocate(4096);
      long t0 = System.nanoTime();
      q.process().destroyForcibly();
      try {
        while (q.qmp().read(buffer) >= 0) {
          buffer.clear();
        }
      } catch (IOException reset) {
        // the end, told as a reset: QEMU died with our quit unread
      }
      floor.add((System.nanoTime() - t0) / 1e6);
      q.process().waitFor(10, TimeUnit.SECONDS);
      q.qmp().close();
    }
    Collections.sort(floor);
    System.out.printf("    raw QEMU, kill -9 to its QMP socket's end, %d kills: p50 %.1f ms, max %.1f ms%n",
        floor.size(), floor.get(floor.size() / 2), floor.get(floor.size() - 1));
  }

  // ---- raw QEMU ----

  private record RawQemu(Process process, double readyMillis, SocketChannel qmp) {
    void stop() throws Exception {
      Channels.newOutputStream(qmp).write("{\"execute\":\"quit\"}\n".getBytes(StandardCharsets.US_ASCII));
      process.waitFor(10, TimeUnit.SECONDS);
      qmp.close();
    }
  }

  /** exec of the same arguments the manager would build, until QMP has accepted qmp_capabilities. */
  private static RawQemu rawStart(ManagerConfig config, Path dir, int port) throws Exception {
    String id = UUID.randomUUID().toString();
    VmPaths paths = new VmPaths(dir);
    run(List.of("rm", "-rf", dir.toString()));
    Files.createDirectories(paths.certs());
    Files.createDirectories(paths.env());
    Files.copy(Path.of(config.qemu().ovmf().varsFile()), paths.ovmfVars());
    List<String> args = QemuCommand.build(new LaunchInput(config.qemu(), Tee.NONE,
        VmCreateRequest.fromJson(new io.vertx.core.json.JsonObject()), id, paths, port, Optional.empty(),
        Optional.empty()));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
    SocketChannel channel = null;
    while (channel == null) {
      try {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(paths.qmpSocket()));
      } catch (IOException e) {
        channel.close();
        channel = null;
        if (!p.isAlive()) {
          throw new IllegalStateException("raw QEMU exited: " + Files.readString(dir.resolve("out")));
        }
        Thread.sleep(1);
      }
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel)));
    in.readLine();
    channel.write(ByteBuffer.wrap("{\"execute\":\"qmp_capabilities\"}\n".getBytes(StandardCharsets.US_ASCII)));
    in.readLine();
    return new RawQemu(p, (System.nanoTime() - t0) / 1e6, channel);
  }

  // ---- (f) ----

  /**
   * A manager killed (SIGKILL) while it runs ADOPTED paused VMs; its successor's start: from exec to gRPC listening
   * (the API is deployed after adoption), and adoption alone as the manager logs it.
   */
  private static void adoption(Path work) throws Exception {
    adoption(work, false);
    adoption(work, true);
  }

  /**
   * With {@code archived}, the first manager writes its AppCDS archive once it serves (as deploy/cds.sh starts it
   * without one) and the restarted one maps it (as deploy/cds.sh starts it with one).
   */
  private static void adoption(Path work, boolean archived) throws Exception {
    String tag = archived ? "f-cds" : "f";
    Path state = Files.createDirectories(work.resolve(tag));
    Map<String, String> env = settings(state, 27500, 27500 + ADOPTED + 20, true);
    env.put("MANAGER_QEMU_MEMORY_SIZE", "128M");
    Path archive = work.resolve(tag + ".jsa");
    List<String> quiet = List.of("-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    List<String> writing = new ArrayList<>(quiet);
    writing.addAll(List.of("-XX:+RecordDynamicDumpInfo", "-Dcvm.cds.archive=" + archive));
    ManagerUnderTest first = ManagerUnderTest.start(env, work.resolve(tag + "1.log"), archived ? writing : List.of());
    first.createConcurrently(ADOPTED);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (archived && !Files.exists(archive) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    List<String> ids = List.copyOf(first.ids);
    first.kill();
    List<String> mapping = new ArrayList<>(quiet);
    mapping.add("-XX:SharedArchiveFile=" + archive);
    long t0 = System.nanoTime();
    try (ManagerUnderTest second = ManagerUnderTest.startServing(env, work.resolve(tag + "2.log"), ADOPTED,
        archived ? mapping : List.of())) {
      double servingMs = (System.nanoTime() - t0) / 1e6;
      second.ids.addAll(ids);
      java.util.regex.Matcher adoption = java.util.regex.Pattern.compile("adoption: [^\"]*")
          .matcher(Files.readString(work.resolve(tag + "2.log")));
      System.out.printf("(f) %d paused VMs, manager killed and restarted%s: exec to the first ListVms answered with"
              + " all %d: %.0f ms; %s%n", ADOPTED, archived ? " with its AppCDS archive" : "", ADOPTED, servingMs,
          adoption.find() ? adoption.group() : "(no adoption line)");
    }
  }


  // ---- (h) ----

  /**
   * bench.soakCycles create → remove cycles of paused 64M VMs by bench.soakClients concurrent clients; after each
   * 100, with no call in flight, the manager's fds, threads, RSS and heap after a full GC. Native memory tracking
   * is on: its growth by category over the first 100 cycles (warm-up) and from there to the end tells warm-up from
   * a leak outside the heap.
   */
  private static void soak(Path work) throws Exception {
    int cycles = Integer.getInteger("bench.soakCycles", 2000);
    int clients = Integer.getInteger("bench.soakClients", 8);
    Path state = Files.createDirectories(work.resolve("h"));
    Map<String, String> env = settings(state, 27500, 27599, true);
    env.put("MANAGER_QEMU_MEMORY_SIZE", "64M");
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("h.log"),
        List.of("-XX:NativeMemoryTracking=summary"))) {
      Soak soak = new Soak(m.process.pid(), clients, () -> m.client.createVm(CreateReq.getDefaultInstance())
          .compose(vm -> m.client.removeVm(RemoveReq.newBuilder().setCvmId(vm.getCvmId()).build())));
      System.out.printf("(h) soak, %d create/remove cycles of paused VMs, %d clients:%n%s%n%s%n", cycles, clients,
          Soak.Sample.header(), soak.sample().row());
      soak.jcmd("VM.native_memory", "baseline");
      String warmUp = "";
      long t0 = System.nanoTime();
      for (int done = 0; done < cycles; done += 100) {
        soak.run(Math.min(100, cycles - done));
        System.out.println(soak.sample().row());
        if (done == 0) {
          warmUp = nativeMemoryGrowth(soak);
          soak.jcmd("VM.native_memory", "baseline");
        }
      }
      System.out.printf("    %.0f s, %d failures %s; VM directories left: %d%n", (System.nanoTime() - t0) / 1e9,
          soak.failures().size(), soak.failures().stream().distinct().limit(5).toList(),
          state.resolve("vms").toFile().list().length);
      System.out.printf("    native memory, cycles 0 to 100:%n%s    native memory, cycles 100 to %d:%n%s", warmUp,
          cycles, nativeMemoryGrowth(soak));
    }
  }

  /** NMT's totals and categories since the last baseline, one line each. */
  private static String nativeMemoryGrowth(Soak soak) throws Exception {
    StringBuilder lines = new StringBuilder();
    soak.jcmd("VM.native_memory", "summary.diff").lines()
        .filter(l -> l.startsWith("Total") || l.startsWith("-"))
        .forEach(l -> lines.append("      ").append(l.replaceFirst("^-\\s+", "")).append('\n'));
    return lines.toString();
  }

  // ---- (i) clustered mode ----

  /**
   * Three clustered managers on loopback (the jar, paused VMs): the time from exec until each trusts each, each
   * idle node's threads and RSS, CreateVm through a non-owner against the owner directly, and how long the others
   * take to show a node's VMs UNREACHABLE after kill -9 and after SIGSTOP (and RUNNING again after SIGCONT).
   */
  private static void cluster(Path work) throws Exception {
    String timeout = System.getProperty("bench.memberTimeout", "10s");
    List<String> names = List.of("a", "b", "c");
    Map<String, Integer> hazelcast = new HashMap<>();
    names.forEach(n -> hazelcast.put(n, freePort()));
    String members = names.stream().map(n -> "127.0.0.1:" + hazelcast.get(n)).collect(Collectors.joining(","));
    Map<String, ManagerUnderTest> nodes = new java.util.LinkedHashMap<>();
    Map<String, Map<String, String>> envs = new HashMap<>();
    int port = 30000;
    long t0 = System.nanoTime();
    try {
      for (String name : names) {
        Map<String, String> env = settings(Files.createDirectories(work.resolve("cluster-" + name)), port,
            port + 99, true);
        port += 100;
        env.put("MANAGER_QEMU_MEMORY_SIZE", "64M");
        env.put("MANAGER_CLUSTER_ENABLED", "true");
        env.put("MANAGER_CLUSTER_NAME", "bench-" + UUID.randomUUID());
        env.put("MANAGER_NODE_NAME", name);
        env.put("MANAGER_CLUSTER_HOST", "127.0.0.1");
        env.put("MANAGER_CLUSTER_PORT", String.valueOf(hazelcast.get(name)));
        env.put("MANAGER_CLUSTER_BUS_PORT", String.valueOf(freePort()));
        env.put("MANAGER_CLUSTER_MEMBERS", members);
        env.put("MANAGER_CLUSTER_INSECURE", "true");
        env.put("MANAGER_CLUSTER_MEMBER_TIMEOUT", timeout);
        envs.put(name, env);
      }
      // One cluster name for all three.
      envs.values().forEach(env -> env.put("MANAGER_CLUSTER_NAME", envs.get("a").get("MANAGER_CLUSTER_NAME")));
      for (String name : names) {
        nodes.put(name, ManagerUnderTest.start(envs.get(name), work.resolve("cluster-" + name + ".log")));
      }
      awaitCluster(envs, names, () -> true);
      System.out.printf("(i) 3 nodes from the first exec to each trusting each: %.1f s (member timeout %s)%n",
          (System.nanoTime() - t0) / 1e9, timeout);
      nodes.forEach((name, node) -> System.out.printf("(i) idle clustered node %s: %s%n", name,
          node.threadsAndRss()));

      int perNode = Integer.getInteger("bench.clusterVms", 300) / names.size();
      for (String name : names) {
        nodes.get(name).createConcurrently(perNode);
      }
      List<Double> listing = new ArrayList<>();
      for (int i = 0; i < SEQUENTIAL_RUNS; i++) {
        listing.add(nodes.get("a").timed(() -> nodes.get("a").cvm.listVms(ListVmsRequest.getDefaultInstance())));
      }
      System.out.printf("(i) ListVms at A of %d paused VMs over 3 nodes: p50 %.1f ms, p99 %.1f ms%n",
          perNode * names.size(), median(listing), percentile(listing, 0.99));
      nodes.forEach((name, node) -> System.out.printf("(i) node %s with %d paused VMs: %s%n", name, perNode,
          node.threadsAndRss()));
      for (ManagerUnderTest node : nodes.values()) {
        node.removeAll();
      }

      // A drained: its creates are placed on B or C.
      nodes.get("a").cvm.drainNode(DrainNodeRequest.newBuilder().setName("a").build()).await();
      List<Double> viaA = new ArrayList<>();
      List<Double> atB = new ArrayList<>();
      for (int i = 0; i < SEQUENTIAL_RUNS; i++) {
        viaA.add(nodes.get("a").timedCreate());
        atB.add(nodes.get("b").timedCreate());
      }
      System.out.printf("(i) CreateVm placed on another node through A: p50 %.1f ms, p99 %.1f ms; at the owner"
          + " directly: p50 %.1f ms, p99 %.1f ms%n", median(viaA), percentile(viaA, 0.99),
          median(atB), percentile(atB, 0.99));
      // What A made is on B or C: removed through A.
      nodes.get("a").removeAll();
      nodes.get("b").removeAll();
      relay(work, envs, members, nodes);
      String onC = nodes.get("c").client.createVm(CreateReq.getDefaultInstance()).await().getCvmId();
      String onB = nodes.get("b").client.createVm(CreateReq.getDefaultInstance()).await().getCvmId();

      long killed = System.nanoTime();
      nodes.remove("c").kill();
      awaitState(nodes.get("a"), onC, VmState.UNREACHABLE);
      System.out.printf("(i) kill -9 of C to its VM UNREACHABLE in A's ListVms: %.2f s%n",
          (System.nanoTime() - killed) / 1e9);

      long pid = nodes.get("b").process.pid();
      long stopped = System.nanoTime();
      run(List.of("kill", "-STOP", String.valueOf(pid)));
      awaitState(nodes.get("a"), onB, VmState.UNREACHABLE);
      System.out.printf("(i) SIGSTOP of B to its VM UNREACHABLE in A's ListVms: %.2f s%n",
          (System.nanoTime() - stopped) / 1e9);
      long resumed = System.nanoTime();
      run(List.of("kill", "-CONT", String.valueOf(pid)));
      awaitState(nodes.get("a"), onB, VmState.RUNNING);
      System.out.printf("(i) SIGCONT of B to its VM RUNNING again in A's ListVms (merge): %.2f s%n",
          (System.nanoTime() - resumed) / 1e9);
      nodes.get("b").ids.add(onB);
    } finally {
      for (ManagerUnderTest node : nodes.values()) {
        node.close();
      }
      run(List.of("pkill", "-9", "-f", work.resolve("cluster-").toString()));
    }
  }

  /**
   * The agent relay against a direct connection: a fourth node D whose QEMU is the tests' FAKE one with its
   * {@code echo-port} stand-in (an echo server on the forwarded port), every other node drained so that a CreateVm
   * at A lands on D; 1-byte round trips (p50) and 64 MiB echoed (MB/s each way), through A's relay and to D's
   * forwarded port itself.
   */
  private static void relay(Path work, Map<String, Map<String, String>> envs, String members,
      Map<String, ManagerUnderTest> nodes) throws Exception {
    Map<String, String> env = new HashMap<>(envs.get("c"));
    int hazelcast = freePort();
    env.put("MANAGER_STATE_DIR", Files.createDirectories(work.resolve("cluster-d")).toString());
    env.put("MANAGER_GRPC_PORT", String.valueOf(freePort()));
    env.put("MANAGER_HTTP_PORT", String.valueOf(freePort()));
    env.put("MANAGER_QEMU_HOST_FWD_RANGE", "30400-30499");
    env.put("MANAGER_NODE_NAME", "d");
    env.put("MANAGER_CLUSTER_PORT", String.valueOf(hazelcast));
    env.put("MANAGER_CLUSTER_BUS_PORT", String.valueOf(freePort()));
    env.put("MANAGER_CLUSTER_MEMBERS", members + ",127.0.0.1:" + hazelcast);
    env.put("MANAGER_QEMU_BIN_PATH", io.cvmmanager.testing.FakeQemu.binary(work, "echo-port").toString());
    envs.put("d", env);
    try (ManagerUnderTest d = ManagerUnderTest.start(env, work.resolve("cluster-d.log"))) {
      awaitCluster(envs, List.of("a", "b", "c", "d"), () -> true);
      for (String drained : List.of("b", "c")) {
        nodes.get("a").cvm.drainNode(DrainNodeRequest.newBuilder().setName(drained).build()).await();
      }
      CreateRes created = nodes.get("a").client.createVm(CreateReq.getDefaultInstance()).await();
      nodes.get("a").ids.add(created.getCvmId());
      int relayed = Integer.parseInt(created.getForwardedPort());
      int direct = d.cvm.getVm(io.cvmmanager.api.cvm.GetVmRequest.newBuilder().setId(created.getCvmId()).build())
          .await().getPort();
      for (String drained : List.of("b", "c")) {
        nodes.get("a").cvm.undrainNode(DrainNodeRequest.newBuilder().setName(drained).build()).await();
      }
      System.out.printf("(i) 1-byte round trip, p50 of 2000: through A's relay %.3f ms, direct to D %.3f ms%n",
          roundTrip(relayed), roundTrip(direct));
      System.out.printf("(i) 64 MiB echoed: through A's relay %.0f MB/s, direct to D %.0f MB/s%n",
          echoed(relayed), echoed(direct));
      nodes.get("a").removeAll();
    }
  }

  private static double roundTrip(int port) throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setTcpNoDelay(true);
      java.io.OutputStream out = socket.getOutputStream();
      java.io.InputStream in = socket.getInputStream();
      List<Double> times = new ArrayList<>();
      for (int i = 0; i < 2200; i++) {
        long t0 = System.nanoTime();
        out.write('x');
        out.flush();
        if (in.read() != 'x') {
          throw new IOException("echo broke");
        }
        if (i >= 200) {
          times.add((System.nanoTime() - t0) / 1e6);
        }
      }
      return median(times);
    }
  }

  private static double echoed(int port) throws Exception {
    long total = 64L << 20;
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      java.io.InputStream in = socket.getInputStream();
      Thread writer = new Thread(() -> {
        try {
          java.io.OutputStream out = socket.getOutputStream();
          byte[] chunk = new byte[1 << 16];
          for (long sent = 0; sent < total; sent += chunk.length) {
            out.write(chunk);
          }
          out.flush();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      long t0 = System.nanoTime();
      writer.start();
      byte[] buffer = new byte[1 << 16];
      long read = 0;
      while (read < total) {
        int n = in.read(buffer);
        if (n < 0) {
          throw new IOException("echo ended after " + read + " bytes");
        }
        read += n;
      }
      writer.join();
      return total / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }
  }

  /** Until each of {@code names} trusts each in its /health. */
  private static void awaitCluster(Map<String, Map<String, String>> envs, List<String> names,
      java.util.function.BooleanSupplier more) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (String name : names) {
        try {
          String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:"
              + envs.get(name).get("MANAGER_HTTP_PORT") + "/health")).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString()).body();
          io.vertx.core.json.JsonArray seen = new io.vertx.core.json.JsonObject(body).getJsonObject("cluster")
              .getJsonArray("nodes");
          long trusted = seen.stream().map(io.vertx.core.json.JsonObject.class::cast)
              .filter(n -> n.getBoolean("member") && n.getBoolean("trusted")).count();
          all &= trusted == names.size();
        } catch (Exception e) {
          all = false;
        }
      }
      if (all && more.getAsBoolean()) {
        return;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("the cluster did not form");
  }

  /** Polls {@code node}'s ListVms every 20 ms until VM {@code id} is in {@code state}. */
  private static void awaitState(ManagerUnderTest node, String id, VmState state) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try {
        boolean seen = node.cvm.listVms(ListVmsRequest.getDefaultInstance()).await().getVmsList().stream()
            .anyMatch(vm -> vm.getId().equals(id) && vm.getState() == state);
        if (seen) {
          return;
        }
      } catch (Exception e) {
        // a call in flight when the node froze: ask again
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("VM " + id + " never " + state);
  }

  // ---- the manager as a separate process ----

  private static final class ManagerUnderTest implements AutoCloseable {
    final Process process;
    final Vertx vertx = Vertx.vertx();
    final ManagerServiceGrpcClient client;
    final CvmServiceGrpcClient cvm;
    final List<String> ids = new ArrayList<>();

    final int httpPort;

    private ManagerUnderTest(Process process, int grpcPort, int httpPort) {
      this.process = process;
      this.httpPort = httpPort;
      GrpcClient grpc = GrpcClient.client(vertx,
          new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
              .setHttp2MultiplexingLimit(1000));
      this.client = ManagerServiceGrpcClient.create(grpc, SocketAddress.inetSocketAddress(grpcPort, "localhost"));
      this.cvm = CvmServiceGrpcClient.create(grpc, SocketAddress.inetSocketAddress(grpcPort, "localhost"));
    }

    static ManagerUnderTest start(Map<String, String> env, Path log) throws Exception {
      return start(env, log, List.of());
    }

    static ManagerUnderTest start(Map<String, String> env, Path log, List<String> jvmOptions) throws Exception {
      ManagerUnderTest m = spawn(env, log, jvmOptions);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.readString(log).contains("gRPC listening")) {
        if (!m.process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("manager did not start: " + Files.readString(log));
        }
        Thread.sleep(50);
      }
      return m;
    }

    /** The jar as a process with {@code env}, its output to {@code log}; not waited for. */
    private static ManagerUnderTest spawn(Map<String, String> env, Path log, List<String> jvmOptions)
        throws IOException {
      List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
      command.addAll(jvmOptions);
      command.addAll(managerJvmOptions(log));
      command.addAll(List.of("-jar", JAR.toString()));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(env);
      return new ManagerUnderTest(builder.start(), Integer.parseInt(env.get("MANAGER_GRPC_PORT")),
          Integer.parseInt(env.getOrDefault("MANAGER_HTTP_PORT", "0")));
    }

    private static List<String> managerJvmOptions(Path log) {
      List<String> command = new ArrayList<>();
      // -Dbench.managerJvm="<options>": JVM options for every manager under test (to compare JIT or GC settings).
      String extra = System.getProperty("bench.managerJvm", "").trim();
      if (!extra.isEmpty()) {
        command.addAll(List.of(extra.split("\\s+")));
      }
      // -Dbench.jfr=<dir>: each manager records a JFR profile (1 ms execution samples) there, to read with `jfr`.
      String jfr = System.getProperty("bench.jfr");
      if (jfr != null) {
        command.add("-XX:StartFlightRecording=settings=profile,jdk.ExecutionSample#period=1ms,filename="
            + Path.of(jfr).toAbsolutePath().resolve(log.getFileName() + ".jfr"));
      }
      return command;
    }

    /**
     * Started, and serving: from exec, ListVms is called every 5 ms until it answers with {@code vms} VMs (a manager
     * may listen before its adoption ends, so listening alone is not serving).
     */
    static ManagerUnderTest startServing(Map<String, String> env, Path log, int vms, List<String> jvmOptions)
        throws Exception {
      ManagerUnderTest m = spawn(env, log, jvmOptions);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        int listed = m.cvm.listVms(ListVmsRequest.getDefaultInstance()).map(r -> r.getVmsCount()).otherwise(-1)
            .await();
        if (listed == vms) {
          return m;
        }
        if (!m.process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("manager did not serve " + vms + " VMs: " + Files.readString(log));
        }
        Thread.sleep(5);
      }
    }

    /** Time of one call, measured on the client's event loop (await's thread hand-offs are not the manager's). */
    double timed(java.util.function.Supplier<Future<?>> call) {
      io.vertx.core.Promise<Double> took = io.vertx.core.Promise.promise();
      vertx.runOnContext(v -> {
        long t0 = System.nanoTime();
        call.get().onComplete(ar -> took.complete((System.nanoTime() - t0) / 1e6));
      });
      return took.future().await();
    }

    double timedCreate() {
      List<String> created = new ArrayList<>();
      double ms = timed(() -> client.createVm(CreateReq.getDefaultInstance()).onSuccess(r -> created.add(r.getCvmId())));
      ids.addAll(created);
      return ms;
    }

    void create() {
      ids.add(client.createVm(CreateReq.getDefaultInstance()).await().getCvmId());
    }

    void createConcurrently(int count) {
      List<Future<CreateRes>> creates = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        creates.add(client.createVm(CreateReq.getDefaultInstance()));
      }
      Future.all(creates).await();
      creates.forEach(f -> ids.add(f.result().getCvmId()));
    }

    void removeAll() {
      List<Future<?>> removes = new ArrayList<>();
      for (String id : ids) {
        removes.add(client.removeVm(RemoveReq.newBuilder().setCvmId(id).build()));
      }
      Future.all(removes).await();
      ids.clear();
    }

    /** The manager JVM's CPU time so far (utime + stime of /proc/<pid>/stat), in milliseconds. */
    double cpuMillis() throws IOException {
      String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // Fields 14 and 15 of stat(5), counted from 3 after the command's closing parenthesis; in clock ticks (100/s).
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10.0;
    }

    /** CPU milliseconds so far by thread kind (/proc/<pid>/task/<tid>/stat; the name's digits dropped). */
    Map<String, Double> cpuByThread() throws IOException {
      Map<String, Double> byKind = new java.util.TreeMap<>();
      try (var tasks = Files.list(Path.of("/proc/" + process.pid() + "/task"))) {
        for (Path task : (Iterable<Path>) tasks::iterator) {
          try {
            String stat = Files.readString(task.resolve("stat"));
            String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+", "#");
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            byKind.merge(name, (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10.0, Double::sum);
          } catch (IOException | StringIndexOutOfBoundsException gone) {
            // a thread that ended meanwhile
          }
        }
      }
      return byKind;
    }

    /** The CPU of each thread kind between two {@link #cpuByThread()} readings, largest first, per create. */
    static String cpuGrowth(Map<String, Double> before, Map<String, Double> after, int creates) {
      return after.entrySet().stream()
          .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
          .filter(e -> e.getValue() > 0)
          .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
          .map(e -> String.format("%s %.1f", e.getKey(), e.getValue() / creates))
          .collect(Collectors.joining(", "));
    }

    /** {@code cvm_vm_create_step_seconds}'s sum and count by step, from the manager's /metrics. */
    Map<String, double[]> steps() throws Exception {
      String text = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://localhost:" + httpPort + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      Map<String, double[]> steps = new java.util.LinkedHashMap<>();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile(
          "cvm_vm_create_step_seconds_(sum|count)\\{step=\"([a-z-]+)\"} ([0-9.E+-]+)").matcher(text);
      while (m.find()) {
        steps.computeIfAbsent(m.group(2), k -> new double[2])[m.group(1).equals("sum") ? 0 : 1] =
            Double.parseDouble(m.group(3));
      }
      return steps;
    }

    /** Mean milliseconds of each create step between two {@link #steps()} readings. */
    static String stepMeans(Map<String, double[]> before, Map<String, double[]> after) {
      StringBuilder out = new StringBuilder();
      after.forEach((step, now) -> {
        double[] then = before.getOrDefault(step, new double[2]);
        double count = now[1] - then[1];
        if (count > 0) {
          out.append(String.format("%s %.2f ms; ", step, (now[0] - then[0]) * 1000 / count));
        }
      });
      return out.toString();
    }

    String threadsAndRss() {
      try {
        String status = Files.readString(Path.of("/proc/" + process.pid() + "/status"));
        String threads = status.lines().filter(l -> l.startsWith("Threads:")).findFirst().orElse("").split("\\s+")[1];
        String rss = status.lines().filter(l -> l.startsWith("VmRSS:")).findFirst().orElse("").split("\\s+")[1];
        return threads + " threads, " + (Long.parseLong(rss) / 1024) + " MiB RSS";
      } catch (IOException e) {
        return "?";
      }
    }

    /** SIGKILL, its VMs left running. */
    void kill() throws Exception {
      process.destroyForcibly();
      process.waitFor(60, TimeUnit.SECONDS);
      vertx.close().await();
    }

    @Override
    public void close() throws Exception {
      removeAll();
      process.destroy();
      process.waitFor(60, TimeUnit.SECONDS);
      vertx.close().await();
    }
  }

  // ---- (g) ----

  /**
   * AttestationPolicy of an SEV-SNP VM through gRPC, signed, with PCR values. Warm: a VM measured at CreateVm (the
   * common path: no tool run). Cold: a VM created while igvmmeasure was missing, so each policy measures the IGVM
   * file, whose modification time changes before each call (a new version: the tool runs). No SNP hardware here: a
   * fake host tree and the test stand-ins for QEMU and igvmmeasure (a Python script, so "cold" includes its start-up).
   */
  private static void attestationPolicy(Path work) throws Exception {
    Path host = work.resolve("f-host");
    write(host.resolve("dev/kvm"), "");
    write(host.resolve("proc/cpuinfo"), "flags\t\t: fpu sev sev_es sev_snp\n");
    write(host.resolve("sys/module/kvm_amd/parameters/sev_snp"), "Y\n");
    Path igvm = write(work.resolve("f-fw/coconut-qemu.igvm"), "IGVM image for the bench");
    Path key = work.resolve("f-corim.pem");
    run(List.of("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key.toString()));
    Path pcr = write(work.resolve("f-pcr.json"), "{\"pcr_values\":{\"sha256\":{\"0\":\"" + "ab".repeat(32) + "\"}}}");
    Path resources = Path.of("src/test/resources/attestation").toAbsolutePath();
    Map<String, String> env = settings(Files.createDirectories(work.resolve("f")), 26790, 26799, false);
    env.put("MANAGER_HOST_ROOT", host.toString());
    env.put("MANAGER_QEMU_ENABLE_KVM", "true");
    env.put("MANAGER_QEMU_ENABLE_SEV_SNP", "true");
    env.put("MANAGER_QEMU_BIN_PATH", resources.resolve("qemu-standin-for-sev-snp.py").toString());
    env.put("MANAGER_QEMU_IGVM_FILE", igvm.toString());
    Path tool = work.resolve("f-bin/igvmmeasure");
    Files.createDirectories(tool.getParent());
    env.put("MANAGER_IGVMMEASURE_BINARY", tool.toString());
    env.put("MANAGER_QEMU_ENABLE_HOST_DATA", "true");
    env.put("MANAGER_CORIM_SIGNING_KEY", key.toString());
    env.put("MANAGER_PCR_VALUES", pcr.toString());
    int requests = Integer.getInteger("bench.policies", 200);
    try (ManagerUnderTest m = ManagerUnderTest.start(env, work.resolve("f.log"))) {
      m.create();  // no tool yet: this VM has no launch measurement, its policies measure the file
      Files.createSymbolicLink(tool, resources.resolve("igvmmeasure-standin.py"));
      m.create();  // measured at create
      AttestationPolicyReq request = AttestationPolicyReq.newBuilder().setId(m.ids.get(0)).build();
      AttestationPolicyReq measured = AttestationPolicyReq.newBuilder().setId(m.ids.get(1)).build();
      long mtime = Files.getLastModifiedTime(igvm).toMillis();
      for (int i = 0; i < 50; i++) {  // warm-up: JIT, both paths
        Files.setLastModifiedTime(igvm, FileTime.fromMillis(mtime += 1000));
        m.client.attestationPolicy(request).await();
        m.client.attestationPolicy(measured).await();
      }
      List<Double> cold = new ArrayList<>();
      List<Double> warm = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        Files.setLastModifiedTime(igvm, FileTime.fromMillis(mtime += 1000));
        cold.add(m.timed(() -> m.client.attestationPolicy(request)));
      }
      for (int i = 0; i < requests; i++) {
        warm.add(m.timed(() -> m.client.attestationPolicy(measured)));
      }
      System.out.printf("(g) AttestationPolicy (SEV-SNP, signed, PCRs), %d requests each: cold (igvmmeasure runs)"
          + " p50 %.2f ms, p99 %.2f ms; warm (measured at create) p50 %.2f ms, p99 %.2f ms%n", requests, median(cold),
          percentile(cold, 0.99), median(warm), percentile(warm, 0.99));
    }
  }

  // ---- helpers ----

  private static Path write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, text);
  }

  private static double percentile(List<Double> values, double p) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get((int) Math.ceil(sorted.size() * p) - 1);
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException(command + " failed: " + out);
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int middle = sorted.size() / 2;
    return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
  }

  private static double p90(List<Double> values) {
    return percentile(values, 0.9);
  }
}
