package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.DiskNeed;
import io.cvmmanager.bus.Messages.MeasureIgvm;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.bus.Messages.VmCreated;
import io.cvmmanager.config.DiskClone;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.qemu.LaunchInput;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.tracing.Tracing;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmCreateRequest;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmFilesRequest;
import io.cvmmanager.vm.VmState;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CreateVm as a saga: admit → port ∥ files ∥ measurement → command → STARTING record → spawn → (PID record ∥ QMP) →
 * RUNNING record durable → reply. Each step that made something registers its undo; when a later step fails (or the
 * create is cut short: the manager stops, or its call was abandoned) the VM is STOPPING while the undo runs, then
 * FAILED.
 */
final class CreateSaga {
  private static final Logger LOG = LoggerFactory.getLogger(CreateSaga.class);
  /** How many host ports a create tries when another program takes each one before QEMU binds it. */
  static final int PORT_ATTEMPTS = 3;
  /** QEMU's stderr when it cannot bind the hostfwd port (slirp's listen failed): it exits at once. */
  private static final String HOST_FORWARDING_FAILED = "Could not set up host forwarding rule";
  /** Longest a CreateVm waits for the IGVM file's launch measurement (normally cached, or well under a second). */
  static final Duration MEASURE_TIMEOUT = Duration.ofSeconds(10);

  private final Bus bus;
  private final ManagerConfig config;
  private final QemuConfig qemu;
  private final Tee tee;
  private final VmTable table;
  private final HostAccounts accounts;
  private final QemuStart qemuStart;
  private final StopSequence stopSequence;
  private final Removal removal;
  private final ExitWatch exitWatch;
  private final TtlTimers ttl;
  private final ManagerMetrics metrics;
  private final Tracing tracing;

  CreateSaga(Vertx vertx, ManagerConfig config, Tee tee, VmTable table, HostAccounts accounts,
      QemuStart qemuStart, StopSequence stopSequence, Removal removal, ExitWatch exitWatch, TtlTimers ttl,
      ManagerMetrics metrics, Tracing tracing) {
    this.bus = Bus.of(vertx);
    this.config = config;
    this.qemu = config.qemu();
    this.tee = tee;
    this.table = table;
    this.accounts = accounts;
    this.qemuStart = qemuStart;
    this.stopSequence = stopSequence;
    this.removal = removal;
    this.exitWatch = exitWatch;
    this.ttl = ttl;
    this.metrics = metrics;
    this.tracing = tracing;
  }

  /** The reply comes once the VM's RUNNING record is durable; a create that cannot get there is undone. */
  Future<VmCreated> create(CreateVm message, SpanContext parent) {
    // A copied disk's size is asked first (it may read the reference image); admission itself is then one step on
    // this loop, so that concurrent creates are admitted one after the other and never over-admit.
    Future<Long> diskBytes = qemu.disk().enabled() && qemu.disk().cloneMethod() == DiskClone.COPY
        ? bus.request(Addresses.FILES_DISK_NEED, Nothing.INSTANCE, config.grpcTimeout()).map(DiskNeed::bytes)
        : Future.succeededFuture(0L);
    return diskBytes
        .compose(bytes -> admit(message, bytes))
        .onFailure(e -> {
          if (e instanceof ManagerException refused) {
            LOG.info("CreateVm refused: {}", refused.getMessage());
            metrics.createFailed(refused.kind().name());
          }
        })
        .compose(admitted -> run(admitted, message, parent));
  }

  /**
   * Checked (TTL, environment, KBS parameters, MANAGER_MAX_VMS) and admitted by the host's accounts, or refused with
   * nothing made; admitted, the VM is in the table.
   */
  private Future<NewVm> admit(CreateVm message, long diskBytes) {
    String id = UUID.randomUUID().toString();
    try {
      NewVm admitted = NewVm.admit(id, message.request(), config, tee, table.size(), diskBytes);
      admitted.vm().claim = accounts.admit(id, admitted.demand());
      admitted.vm().callId = message.callId();
      admitted.vm().origin = message.origin();
      table.add(admitted.vm());
      return Future.succeededFuture(admitted);
    } catch (ManagerException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<VmCreated> run(NewVm admitted, CreateVm message, SpanContext parent) {
    Vm vm = admitted.vm();
    String id = vm.id;
    LOG.info("vm {}: creating ({})", id, message.request());
    table.publish(VmEvent.state(id, "", VmState.CREATING.name(), "CreateVm"));
    long started = System.nanoTime();
    vm.creation = tracing.span("cvm.create", parent, Map.of("cvm.vm.id", id),
        span -> steps(vm, message.request(), admitted.environment(), span.getSpanContext()));
    return vm.creation
        .map(v -> {
          metrics.vmCreated(Duration.ofNanos(System.nanoTime() - started));
          LOG.info("vm {}: running, pid {}, agent port {}{}", id, vm.process.pid(), vm.port,
              vm.paused ? " (paused)" : "");
          return new VmCreated(id, vm.port);
        })
        .onFailure(e -> {
          LOG.warn("vm {}: create failed: {}", id, e.getMessage());
          metrics.createFailed(e instanceof ManagerException m ? m.kind().name() : ErrorKind.INTERNAL.name());
        });
  }

  /**
   * A CreateVm whose reply did not reach its client: the create is cut short (its saga undoes what it made), or the
   * VM it made is removed. Completes once that is done, so that a draining API waits for it.
   */
  Future<Void> abandon(String callId) {
    Optional<Vm> found = table.byCallId(callId);
    if (found.isEmpty()) {
      return Future.succeededFuture();
    }
    Vm vm = found.get();
    String why = "CreateVm reply not delivered";
    if (!vm.creation.isComplete()) {
      LOG.info("vm {}: {}; cutting its create short", vm.id, why);
      vm.cancelled = Optional.of(why);
    }
    return vm.creation.transform(created -> created.succeeded() && table.isLive(vm)
        ? removal.remove(vm, why, null, false) : Future.<Void>succeededFuture());
  }

  /** One saga step in its own span, child of the create's, and timed in {@code cvm_vm_create_step_seconds}. */
  private <T> Future<T> step(String name, Vm vm, SpanContext parent, Supplier<Future<T>> work) {
    long started = System.nanoTime();
    return tracing.span("cvm.create." + name, parent, Map.of("cvm.vm.id", vm.id), span -> work.get())
        .andThen(done -> metrics.createStep(name, Duration.ofNanos(System.nanoTime() - started)));
  }

  private Future<Void> steps(Vm vm, VmCreateRequest request, String environment, SpanContext trace) {
    Saga saga = new Saga(vm.id);
    // Undone last: what the VM was admitted with is held until everything it made is gone.
    saga.onUndo("resources", () -> {
      removal.releaseClaim(vm);
      return Future.succeededFuture();
    });
    // The port and the files do not depend on each other: both at once.
    Future<Port> port = step("reserve-port", vm, trace,
            () -> bus.request(Addresses.PORT_RESERVE, ReservePort.any(vm.id), config.grpcTimeout()))
        .onSuccess(reserved -> {
          vm.port = reserved.port();
          saga.onUndo("port " + vm.port, () -> removal.releasePort(vm.port));
        });
    saga.onUndo("files", () -> {
      vm.persistent = false;
      return vm.saved.otherwiseEmpty().compose(v -> removal.releaseFiles(vm.id));
    });
    VmFilesRequest files = new VmFilesRequest(vm.id, tee == Tee.NONE, AgentEnvironment.certificates(request),
        environment, vm.diskMode);
    Future<?> prepared = step("prepare-files", vm, trace,
        () -> bus.request(Addresses.FILES_PREPARE, files, config.grpcTimeout()));
    return Future.join(port, prepared, measure(vm))
        .compose(all -> {
          vm.command = qemuCommand(vm, request);
          vm.persistent = true;
          // On disk before QEMU exists: a manager that dies from here on leaves a record to find it by.
          table.transition(vm, VmState.STARTING, "files ready, port " + vm.port);
          // Whichever QEMU the launch ends with (a retry on another port makes a new one).
          saga.onUndo("QEMU", () -> stopSequence.stop(vm, false));
          return launch(vm, request, trace, PORT_ATTEMPTS);
        })
        .compose(v -> goOn(vm))
        .compose(v -> {
          table.transition(vm, VmState.RUNNING, vm.paused ? "QMP ready; paused (-S)" : "QMP ready");
          // The reply waits for the RUNNING record: a manager that dies right after replying must find a VM its
          // client knows as running, not as a create cut short (which it would remove). A record that cannot be
          // made durable fails the create, which is undone: never an OK for a VM a restart would not keep.
          return step("running-record", vm, trace, () -> vm.saved)
              .recover(e -> Future.failedFuture(e instanceof ManagerException ? e
                  : new ManagerException(ErrorKind.UNAVAILABLE, "the VM's RUNNING record could not be written: "
                      + e.getMessage())));
        })
        .compose(v -> goOn(vm))
        .compose(v -> {
          ttl.arm(vm, removal::expire);
          // An exit meanwhile is seen here: the watch finds the process's exit or QMP's end already complete.
          exitWatch.watch(vm);
          return Future.<Void>succeededFuture();
        })
        .recover(error -> {
          ttl.cancel(vm);
          table.transition(vm, VmState.STOPPING, "create failed: " + error.getMessage() + "; undoing it");
          return saga.undo()
              .andThen(undone -> table.transition(vm, VmState.FAILED, "create failed: " + error.getMessage()))
              .transform(ignored -> Future.failedFuture(error));
        });
  }

  /**
   * QEMU on the VM's port, up to its QMP handshake. The pool's bind check and QEMU's own bind of the port are
   * apart: a program that takes the port in between makes QEMU exit ("Could not set up host forwarding rule");
   * then another port is reserved, the taken one released (the pool skips it while it stays taken), and QEMU
   * started again, {@code attemptsLeft} times at most; never a VM without its port.
   */
  private Future<Void> launch(Vm vm, VmCreateRequest request, SpanContext trace, int attemptsLeft) {
    return step("starting-record", vm, trace, () -> vm.saved)
        .compose(v -> goOn(vm))
        .compose(v -> step("spawn", vm, trace, () -> qemuStart.spawn(vm)))
        .compose(v -> {
          // QEMU's identity is made durable while QEMU comes up to QMP, not before: the reply waits for both (the
          // RUNNING record is written after it), and until it lands a restart finds QEMU by its pid file.
          Future<Void> identity = step("identity-record", vm, trace, () -> qemuStart.recordIdentity(vm));
          Future<Void> qmp = step("qmp-handshake", vm, trace, () -> qemuStart.connectQmp(vm));
          return Future.join(identity, qmp).<Void>mapEmpty();
        })
        .recover(error -> {
          if (!vm.exited() || !vm.stderrSummary().contains(HOST_FORWARDING_FAILED)) {
            return Future.failedFuture(error);
          }
          int taken = vm.port;
          String tried = "host port " + taken + " was taken by another program before QEMU could bind it";
          if (attemptsLeft <= 1) {
            return Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, tried + " (" + PORT_ATTEMPTS
                + " ports tried): " + vm.stderrSummary()));
          }
          LOG.warn("vm {}: {}; trying another port", vm.id, tried);
          return bus.request(Addresses.PORT_RESERVE, ReservePort.any(vm.id), config.grpcTimeout())
              .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, tried
                  + ", and no other port is free: " + e.getMessage())))
              .compose(reserved -> {
                vm.port = reserved.port();
                vm.command = qemuCommand(vm, request);
                vm.stderrTail.clear();
                table.persist(vm);
                return removal.releasePort(taken);
              })
              .compose(v -> launch(vm, request, trace, attemptsLeft - 1));
        });
  }

  private List<String> qemuCommand(Vm vm, VmCreateRequest request) {
    // The VM's own sizes, as recorded at admission (our CreateVm may have given them).
    QemuConfig sized = qemu.withVmSize(vm.launchConfig.smp(), vm.launchConfig.memory());
    return QemuCommand.build(new LaunchInput(sized, tee, request, vm.id, vm.paths, vm.port, vm.hostData,
        vm.claim.gpu(), vm.claim.placement()));
  }

  /**
   * SEV-SNP: the IGVM file's launch measurement now, at launch, so the VM's policy states the file it runs even if
   * the file is replaced later (cached per file version: one tool run per version). Without it (no tool here) the
   * VM still starts; its policy then measures the file when asked.
   */
  private Future<Void> measure(Vm vm) {
    if (tee != Tee.SEV_SNP) {
      return Future.succeededFuture();
    }
    // Bounded well inside CreateVm's own deadline: a hung tool delays the create a little, never fails it.
    Duration quarter = config.grpcTimeout().dividedBy(4);
    Duration wait = quarter.compareTo(MEASURE_TIMEOUT) < 0 ? quarter : MEASURE_TIMEOUT;
    return bus.request(Addresses.ATTESTATION_MEASURE, new MeasureIgvm(qemu.sevSnp().igvmFile()), wait)
        .map(measured -> {
          vm.launchMeasurement = Optional.of(measured.hex());
          return (Void) null;
        })
        .otherwise(e -> {
          LOG.warn("vm {}: no launch measurement at create ({}); its policy will measure the IGVM file when asked",
              vm.id, e.getMessage());
          return null;
        });
  }

  /**
   * A create that a manager stop or its abandoned call cut short fails at its next step, so that its own undo
   * releases what it made.
   */
  private static Future<Void> goOn(Vm vm) {
    return vm.cancelled.<Future<Void>>map(why -> Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE,
        why))).orElseGet(Future::succeededFuture);
  }
}
