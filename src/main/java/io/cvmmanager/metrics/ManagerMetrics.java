package io.cvmmanager.metrics;

import io.cvmmanager.resources.HostView;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmUsage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The manager's own meters, in one Prometheus registry that Vert.x (HTTP, event bus, pools) and the JVM report into
 * as well. Thread-safe: any verticle may record from its event loop. Names follow Micrometer's dotted convention
 * and come out in Prometheus as {@code cvm_vms}, {@code cvm_grpc_requests_seconds_*}, {@code cvm_vm_create_seconds_*},
 * {@code cvm_vm_remove_seconds_*}, {@code cvm_vm_create_failures_total}, {@code cvm_qemu_exits_total},
 * {@code cvm_host_capacity}, {@code cvm_host_allocated}, {@code cvm_host_free}, {@code cvm_vm_cpu_seconds_total},
 * {@code cvm_vm_memory_rss_bytes}; beside them upstream's own request
 * metrics ({@link UpstreamApiMetrics}).
 */
public final class ManagerMetrics {
  /** What the exposition format of {@link #scrape()} is, for the Content-Type of a scrape. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Latency buckets from a fast unary call to a disk-mode boot; few enough to keep a scrape small. */
  private static final Duration[] BUCKETS = {
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
      Duration.ofSeconds(60), Duration.ofSeconds(120)};

  private final PrometheusMeterRegistry registry;
  private final UpstreamApiMetrics upstream = new UpstreamApiMetrics();
  private final AtomicReference<Supplier<Map<String, Integer>>> vmCounts = new AtomicReference<>(Map::of);
  private final AtomicReference<Supplier<Integer>> unsaved = new AtomicReference<>(() -> 0);

  private ManagerMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    for (VmState state : VmState.values()) {
      Gauge.builder("cvm.vms", () -> vmCounts.get().get().getOrDefault(state.name(), 0))
          .description("VMs of this manager by lifecycle state")
          .tag("state", state.name())
          .register(registry);
    }
    Gauge.builder("cvm.vms.unsaved", () -> unsaved.get().get())
        .description("Running VMs whose last state.json write failed and is being retried")
        .register(registry);
  }

  /** A fresh registry; what tests that do not look at metrics pass as well. */
  public static ManagerMetrics create() {
    return new ManagerMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /**
   * A Vert.x builder whose own metrics (and the JVM's) go into this registry. Each registry gets its own name:
   * vertx-micrometer keeps backends in a static map by name, and two Vert.x instances in one JVM (tests) must not
   * share one.
   */
  public VertxBuilder vertxBuilder(VertxOptions options) {
    MicrometerMetricsOptions metricsOptions = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setRegistryName("cvm-manager-" + UUID.randomUUID());
    return Vertx.builder()
        .with(new VertxOptions(options).setMetricsOptions(metricsOptions))
        .withMetrics(new MicrometerMetricsFactory(registry));
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Every meter in the Prometheus text format, version 0.0.4 ({@link #CONTENT_TYPE}), upstream's families last. */
  public String scrape() {
    return registry.scrape(CONTENT_TYPE) + upstream.exposition();
  }

  /** One finished RPC: {@code method} as in the service definition ({@code CreateVm}), {@code status} a gRPC code. */
  public void rpc(String method, String status, Duration took) {
    timer("cvm.grpc.requests", "gRPC requests by method and final status", "method", method, "status", status)
        .record(took);
  }

  /**
   * One finished call of upstream's {@code manager.ManagerService} ({@code rpc} as in its service definition), under
   * upstream's metric names, whatever its outcome.
   */
  public void upstreamRequest(String rpc, Duration took) {
    upstream.record(rpc, took);
  }

  /** A CreateVm that reached RUNNING, measured from the request. */
  public void vmCreated(Duration took) {
    timer("cvm.vm.create", "CreateVm from request to RUNNING").record(took);
  }

  /**
   * One step of a CreateVm's saga ({@code step}: {@code reserve-port}, {@code prepare-files}, {@code
   * starting-record}, {@code spawn}, {@code identity-record}, {@code qmp-handshake}, {@code running-record}),
   * however it ended: where a slow create spends its time.
   */
  public void createStep(String step, Duration took) {
    timer("cvm.vm.create.step", "CreateVm saga steps by step", "step", step).record(took);
  }

  /** A CreateVm that failed; {@code kind} says why (an error kind or the saga step that failed). */
  public void createFailed(String kind) {
    Counter.builder("cvm.vm.create.failures").description("CreateVm failures by kind").tag("kind", kind)
        .register(registry).increment();
  }

  /** A VM removed (RemoveVm, TTL, shutdown), measured from the request until QEMU was reaped and all released. */
  public void vmRemoved(Duration took) {
    timer("cvm.vm.remove", "VM removal from request to everything released").record(took);
  }

  /** A QEMU process ended; {@code cause}: {@code orderly}, {@code killed}, {@code crashed}, ... */
  public void qemuExited(String cause) {
    Counter.builder("cvm.qemu.exits").description("QEMU exits by cause").tag("cause", cause)
        .register(registry).increment();
  }

  /**
   * A VM directory found at start-up; {@code outcome}: {@code adopted}, {@code ended} (while the manager was
   * down), {@code removed} (adopted and removed: TTL expired, create or removal cut short), {@code failed}.
   */
  public void adoption(String outcome) {
    Counter.builder("cvm.adoptions").description("VMs of an earlier run found at start-up, by outcome")
        .tag("outcome", outcome).register(registry).increment();
  }

  /** A state.json write failed (it is retried for a running VM; a create fails). */
  public void stateWriteFailed() {
    Counter.builder("cvm.state.write.failures").description("state.json writes that failed")
        .register(registry).increment();
  }

  /**
   * Where {@code cvm_vms_unsaved} reads from: running VMs whose last state.json write failed and is being retried.
   * Called on the scraping thread; a later call replaces the earlier supplier.
   */
  public void unsavedVms(Supplier<Integer> count) {
    unsaved.set(count);
  }

  /**
   * Where the {@code cvm_vms{state}} gauges read from: counts by {@link VmState} name, a missing state being 0.
   * The supplier is called on the scraping thread. A later call replaces the earlier supplier.
   */
  public void vmStates(Supplier<Map<String, Integer>> counts) {
    vmCounts.set(counts);
  }

  private Timer timer(String name, String description, String... tags) {
    return Timer.builder(name).description(description).tags(tags).serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  // The host's resources (cvm_host_*{resource}), read from the last view the HTTP verticle fetched.

  private final AtomicReference<HostView> hostView =
      new AtomicReference<>(new HostView(List.of(), List.of(), List.of()));

  /**
   * The view the {@code cvm_host_capacity}, {@code cvm_host_allocated} and {@code cvm_host_free} gauges show, by
   * {@code resource}, in the resource's unit (bytes or a count). A capacity or free the host does not tell (so not
   * limited) is NaN. A resource's gauges are registered the first time a view has it.
   */
  public void hostResources(HostView view) {
    hostView.set(view);
    for (HostView.Resource resource : view.resources()) {
      hostGauge("cvm.host.capacity", "What the host has, by resource (NaN: not told, not limited)",
          resource.name(), r -> orNaN(r.capacity()));
      hostGauge("cvm.host.allocated", "What this manager's VMs hold, by resource", resource.name(),
          r -> (double) r.allocated());
      hostGauge("cvm.host.free", "What a new VM may still take, by resource (NaN: not limited)", resource.name(),
          r -> orNaN(r.free()));
    }
  }

  private void hostGauge(String name, String description, String resource,
      Function<HostView.Resource, Double> value) {
    Gauge.builder(name, () -> hostView.get().resource(resource).map(value).orElse(Double.NaN))
        .description(description).tag("resource", resource).register(registry);
  }

  private static double orNaN(OptionalLong amount) {
    return amount.isPresent() ? amount.getAsLong() : Double.NaN;
  }

  // Per-VM usage (cvm_vm_cpu_seconds_total{vm}, cvm_vm_memory_rss_bytes{vm}): a VM's series exist from its first
  // sample until it leaves the launcher's table, so none is left for a VM that is gone.

  private final Map<String, VmUsage> vmUsage = new ConcurrentHashMap<>();
  private final Map<String, List<Meter>> vmUsageMeters = new ConcurrentHashMap<>();

  /** A VM's latest usage sample, which its series show; the first one registers them. */
  public void vmUsage(VmUsage sample) {
    String vm = sample.id();
    if (vmUsage.put(vm, sample) == null) {
      vmUsageMeters.put(vm, List.of(
          FunctionCounter.builder("cvm.vm.cpu.seconds", vmUsage, usage -> usageOf(usage, vm, VmUsage::cpuSeconds))
              .description("CPU time (user + system) of the VM's QEMU, all threads").tag("vm", vm)
              .register(registry),
          Gauge.builder("cvm.vm.memory.rss.bytes", vmUsage,
                  usage -> usageOf(usage, vm, sampled -> (double) sampled.rssBytes()))
              .description("Resident memory of the VM's QEMU").tag("vm", vm).register(registry)));
    }
  }

  /** The VM left: its series go. */
  public void vmGone(String vm) {
    vmUsage.remove(vm);
    List<Meter> meters = vmUsageMeters.remove(vm);
    if (meters != null) {
      meters.forEach(registry::remove);
    }
  }

  private static double usageOf(Map<String, VmUsage> usage, String vm, Function<VmUsage, Double> value) {
    VmUsage sampled = usage.get(vm);
    return sampled == null ? Double.NaN : value.apply(sampled);
  }
}
