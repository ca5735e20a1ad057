package io.cvmmanager.launcher;

import io.cvmmanager.attestation.HostData;
import io.cvmmanager.bus.Addresses;
import io.cvmmanager.config.GoDuration;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.disk.DiskVerticle;
import io.cvmmanager.disk.VmFilesRequest;
import io.cvmmanager.error.ClientText;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.error.NoSpaceLeft;
import io.cvmmanager.process.ChildProcess;
import io.cvmmanager.qemu.LaunchInput;
import io.cvmmanager.qemu.QemuCommand;
import io.cvmmanager.qemu.Tee;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.vm.VmCreateRequest;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.tracing.Tracing;
import io.opentelemetry.api.trace.SpanContext;
import io.cvmmanager.vm.VmLogLine;
import io.cvmmanager.process.ExitStatus;
import io.cvmmanager.process.AdoptedProcess;
import io.cvmmanager.process.ProcessSnapshot;
import io.cvmmanager.qmp.QmpClient;
import io.cvmmanager.qmp.QmpException;
import io.cvmmanager.qmp.QmpMessage;
import io.cvmmanager.qmp.SocketWatcher;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the VM table and is the single writer of VM state. CreateVm is a saga — validate, reserve a port, prepare
 * files, build the command, spawn QEMU, QMP handshake, RUNNING — whose completed steps are undone when a later one
 * fails. RemoveVm (and TTL expiry) take the VM out of the table at once, so its id is NOT_FOUND from then on, then
 * stop QEMU (ACPI powerdown, grace, QMP quit, SIGTERM, SIGKILL) and release its port and files before replying.
 * Nothing here blocks: many VMs start and stop concurrently on this one event loop.
 */
public final class VmLauncherVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(VmLauncherVerticle.class);
  /** How long each of quit, SIGTERM and SIGKILL gets to end QEMU before the next is tried. */
  static final Duration STOP_STEP_TIMEOUT = Duration.ofSeconds(5);
  /** How long an adopted QEMU gets to answer on its QMP socket. */
  static final Duration ADOPT_QMP_TIMEOUT = Duration.ofSeconds(10);
  /** The first retry of a failed state.json write of a running VM; each next one waits twice as long, up to a minute. */
  static final Duration STATE_RETRY_FIRST = Duration.ofSeconds(1);
  static final Duration STATE_RETRY_MAX = Duration.ofMinutes(1);
  /** Longest a CreateVm waits for the IGVM file's launch measurement (normally cached, or well under a second). */
  static final Duration CREATE_MEASURE_TIMEOUT = Duration.ofSeconds(10);
  /** How many host ports a create tries when another program takes each one before QEMU binds it. */
  static final int PORT_ATTEMPTS = 3;
  /** QEMU's stderr when it cannot bind the hostfwd port (slirp's listen failed): it exits at once. */
  private static final String HOST_FORWARDING_FAILED = "Could not set up host forwarding rule";

  private final ManagerConfig config;
  private final QemuConfig qemu;
  private final Tee tee;
  /** Every VM not being removed, by id. Its size is what MANAGER_MAX_VMS limits. */
  private final Map<String, Vm> vms = new LinkedHashMap<>();
  /** VMs being stopped after a remove or TTL: out of the table, but still ours to finish. */
  private final Map<String, Future<Void>> stopping = new LinkedHashMap<>();
  private NetClient qmpNet;
  private SocketWatcher sockets;

  private final ManagerMetrics metrics;
  private final Tracing tracing;

  public VmLauncherVerticle(ManagerConfig config, Tee tee, ManagerMetrics metrics, Tracing tracing) {
    this.config = config;
    this.qemu = config.qemu();
    this.tee = tee;
    this.metrics = metrics;
    this.tracing = tracing;
  }

  @Override
  public Future<?> start() throws Exception {
    qmpNet = QmpClient.netClient(vertx);
    sockets = new SocketWatcher();
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_CREATE, this::onCreate);
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_CREATE_ABANDON, this::onAbandon);
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_REMOVE, this::onRemove);
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_GET, this::onGet);
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_OBSERVED, this::onObserved);
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_LIST, message -> {
      io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
      vms.values().forEach(vm -> list.add(vm.view().toJson()));
      message.reply(new JsonObject().put("vms", list)
          .put("unsaved", vms.values().stream().filter(vm -> vm.unsaved).count()));
    });
    vertx.eventBus().<JsonObject>consumer(Addresses.VM_QMP_QUERY, this::onQmpQuery);
    // The API is deployed after this verticle: no call is taken before the VMs of the last run are back.
    return adoptAll();
  }

  /**
   * By default (MANAGER_STOP_VMS_ON_EXIT=false) running VMs are left running and their state on disk, for the next
   * manager to adopt: the QMP connections are closed (QEMU takes the next manager's), nothing else. VMs still
   * being created are cut short at their saga's next step, which undoes what it made (their client has no id
   * yet); removals under way are finished. With MANAGER_STOP_VMS_ON_EXIT=true every running VM is removed first.
   */
  @Override
  public Future<?> stop() {
    List<Future<Void>> all = new ArrayList<>(stopping.values());
    for (Vm vm : List.copyOf(vms.values())) {
      // Until its RUNNING record is durable a VM is still being created, even once its state says RUNNING.
      if (!vm.creation.isComplete()) {
        vm.cancelled = Optional.of("the manager is stopping");
        all.add(vm.creation.otherwiseEmpty());
      } else if (config.stopVmsOnExit()) {
        all.add(remove(vm, "manager stopping", null));
      } else {
        all.add(detach(vm));
      }
    }
    return Future.join(all).transform(ar -> {
      try {
        sockets.close();
      } catch (java.io.IOException e) {
        LOG.debug("closing the socket watcher: {}", e.toString());
      }
      return qmpNet.close();
    });
  }

  // ---- CreateVm ----

  private void onCreate(Message<JsonObject> message) {
    VmCreateRequest request = VmCreateRequest.fromJson(message.body());
    String id = UUID.randomUUID().toString();
    Vm vm;
    String environment;
    try {
      Optional<Instant> deadline = ttl(request.ttl()).map(Instant.now()::plus);
      environment = AgentEnvironment.render(id, request);
      if (!request.aaKbsParams().isEmpty()) {
        AgentEnvironment.requireQuotable(request.aaKbsParams(), "aa_kbs_params");
        if (request.aaKbsParams().chars().anyMatch(Character::isWhitespace)) {
          throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "aa_kbs_params contains whitespace");
        }
      }
      if (config.maxVms() > 0 && vms.size() >= config.maxVms()) {
        throw new ManagerException(ErrorKind.RESOURCE_EXHAUSTED,
            "maximum number of VMs reached (MANAGER_MAX_VMS=" + config.maxVms() + ")");
      }
      String cmdline = QemuCommand.kernelCommandLine(qemu, request);
      vm = new Vm(id, VmPaths.of(config.stateDir(), id), tee, qemu.disk().enabled(), qemu.startPaused(), cmdline,
          deadline, launchConfig());
      vm.hostData = HostData.forVm(tee, qemu.sevSnp(), request.serverCaCert(), request.clientCert(),
          request.cvmServerUrl());
    } catch (ManagerException e) {
      LOG.info("CreateVm refused: {}", e.getMessage());
      metrics.createFailed(e.kind().name());
      fail(message, e);
      return;
    }
    vm.callId = message.body().getString("callId", "");
    vms.put(id, vm);
    LOG.info("vm {}: creating ({})", id, request);
    publish(VmEvent.state(id, "", VmState.CREATING.name(), "CreateVm"));
    long started = System.nanoTime();
    SpanContext parent = Tracing.extract(message.headers());
    vm.creation = tracing.span("cvm.create", parent, Map.of("cvm.vm.id", id),
        span -> create(vm, request, environment, span.getSpanContext()));
    vm.creation
        .onSuccess(v -> {
          metrics.vmCreated(Duration.ofNanos(System.nanoTime() - started));
          LOG.info("vm {}: running, pid {}, agent port {}{}", id, vm.process.pid(), vm.port,
              vm.paused ? " (paused)" : "");
          message.reply(new JsonObject().put("id", id).put("port", vm.port));
        })
        .onFailure(e -> {
          LOG.warn("vm {}: create failed: {}", id, e.getMessage());
          metrics.createFailed(e instanceof ManagerException m ? m.kind().name() : ErrorKind.INTERNAL.name());
          fail(message, e);
        });
  }

  /** One saga step in its own span, child of the create's. */
  private <T> Future<T> step(String name, Vm vm, SpanContext parent, java.util.function.Supplier<Future<T>> work) {
    return tracing.span("cvm.create." + name, parent, Map.of("cvm.vm.id", vm.id), span -> work.get());
  }

  private Future<Void> create(Vm vm, VmCreateRequest request, String environment, SpanContext trace) {
    Saga saga = new Saga(vm.id);
    // The port and the files do not depend on each other: both at once.
    Future<JsonObject> port = step("reserve-port", vm, trace,
            () -> request(Addresses.PORT_RESERVE, new JsonObject().put("id", vm.id)))
        .onSuccess(reply -> {
          vm.port = reply.getInteger("port");
          saga.onUndo("port " + vm.port, () -> releasePort(vm.port));
        });
    saga.onUndo("files", () -> {
      vm.persistent = false;
      return vm.saved.otherwiseEmpty().compose(v -> releaseFiles(vm.id));
    });
    VmFilesRequest files = new VmFilesRequest(vm.id, tee == Tee.NONE, AgentEnvironment.certificates(request),
        environment, vm.diskMode);
    Future<JsonObject> prepared = step("prepare-files", vm, trace,
        () -> request(Addresses.FILES_PREPARE, files.toJson()));
    return Future.join(port, prepared, measure(vm))
        .compose(reply -> {
          vm.command = qemuCommand(vm, request);
          vm.persistent = true;
          // On disk before QEMU exists: a manager that dies from here on leaves a record to find it by.
          transition(vm, VmState.STARTING, "files ready, port " + vm.port);
          // Whichever QEMU the launch ends with (a retry on another port makes a new one).
          saga.onUndo("QEMU", () -> stopProcess(vm, false));
          return launch(vm, request, trace, PORT_ATTEMPTS);
        })
        .compose(v -> goOn(vm))
        .compose(v -> {
          transition(vm, VmState.RUNNING, vm.paused ? "QMP ready; paused (-S)" : "QMP ready");
          // The reply waits for the RUNNING record: a manager that dies right after replying must find a VM its
          // client knows as running, not as a create cut short (which it would remove). A record that cannot be
          // made durable fails the create, which is undone: never an OK for a VM a restart would not keep.
          return vm.saved.recover(e -> Future.failedFuture(e instanceof ManagerException ? e
              : new ManagerException(ErrorKind.UNAVAILABLE, "the VM's RUNNING record could not be written: "
                  + e.getMessage())));
        })
        .compose(v -> goOn(vm))
        .compose(v -> {
          armTtl(vm);
          // An exit meanwhile is seen here: watch() finds the process's exit or QMP's end already complete.
          watch(vm);
          return Future.<Void>succeededFuture();
        })
        .recover(error -> {
          cancelTtl(vm);
          if (!vm.state.isFinal()) {
            transition(vm, VmState.FAILED, "create failed: " + error.getMessage());
          }
          return saga.undo().eventually(() -> {
            vms.remove(vm.id);
            return Future.succeededFuture();
          }).transform(ignored -> Future.failedFuture(error));
        });
  }

  /**
   * QEMU on the VM's port, up to its QMP handshake. The pool's bind check and QEMU's own bind of the port are
   * apart: a program that takes the port in between makes QEMU exit ("Could not set up host forwarding rule");
   * then another port is reserved, the taken one released (the pool skips it while it stays taken), and QEMU
   * started again, {@code attemptsLeft} times at most; never a VM without its port.
   */
  private Future<Void> launch(Vm vm, VmCreateRequest request, SpanContext trace, int attemptsLeft) {
    return vm.saved
        .compose(v -> goOn(vm))
        .compose(v -> step("spawn", vm, trace, () -> spawn(vm)))
        .compose(v -> recordIdentity(vm))
        .compose(v -> step("qmp-handshake", vm, trace, () -> connectQmp(vm)))
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
          return request(Addresses.PORT_RESERVE, new JsonObject().put("id", vm.id))
              .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.UNAVAILABLE, tried
                  + ", and no other port is free: " + e.getMessage())))
              .compose(reply -> {
                vm.port = reply.getInteger("port");
                vm.command = qemuCommand(vm, request);
                vm.stderrTail.clear();
                persist(vm);
                return releasePort(taken);
              })
              .compose(v -> launch(vm, request, trace, attemptsLeft - 1));
        });
  }

  private List<String> qemuCommand(Vm vm, VmCreateRequest request) {
    return QemuCommand.build(new LaunchInput(qemu, tee, request, vm.id, vm.paths, vm.port, vm.hostData));
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
    Duration wait = config.grpcTimeout().dividedBy(4).compareTo(CREATE_MEASURE_TIMEOUT) < 0
        ? config.grpcTimeout().dividedBy(4) : CREATE_MEASURE_TIMEOUT;
    return request(Addresses.ATTESTATION_MEASURE, new JsonObject().put("igvmFile", qemu.sevSnp().igvmFile()), wait)
        .map(reply -> {
          vm.launchMeasurement = Optional.of(reply.getString("measurement"));
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

  /**
   * A CreateVm whose reply did not reach its client: the create is cut short (its saga undoes what it made), or the
   * VM it made is removed. Replies once that is done, so that a draining API waits for it.
   */
  private void onAbandon(Message<JsonObject> message) {
    String callId = message.body().getString("callId", "");
    Optional<Vm> found = callId.isEmpty() ? Optional.empty()
        : vms.values().stream().filter(vm -> vm.callId.equals(callId)).findFirst();
    if (found.isEmpty()) {
      message.reply(new JsonObject());
      return;
    }
    Vm vm = found.get();
    String why = "CreateVm reply not delivered";
    if (!vm.creation.isComplete()) {
      LOG.info("vm {}: {}; cutting its create short", vm.id, why);
      vm.cancelled = Optional.of(why);
    }
    vm.creation
        .transform(created -> created.succeeded() && vms.get(vm.id) == vm && vm.state == VmState.RUNNING
            ? remove(vm, why, null, false) : Future.<Void>succeededFuture())
        .onComplete(ar -> message.reply(new JsonObject()));
  }

  private static Optional<Duration> ttl(String text) {
    if (text.isEmpty()) {
      return Optional.empty();
    }
    Duration ttl;
    try {
      ttl = GoDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "ttl: " + e.getMessage()
          + " (Go duration syntax, e.g. 90s, 1h30m)");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "ttl: " + ClientText.quote(text)
          + " must be more than zero");
    }
    return Optional.of(ttl);
  }

  private Future<Void> spawn(Vm vm) {
    List<String> command = new ArrayList<>();
    // Its own session, so QEMU is in no process group of ours and can outlive the manager.
    command.add("setsid");
    command.addAll(vm.command);
    return ChildProcess.start(context, command, null,
            line -> LOG.debug("vm {}: qemu: {}", vm.id, line),
            line -> {
              vm.keepStderr(line);
              LOG.info("vm {}: qemu stderr: {}", vm.id, line);
              vertx.eventBus().publish(VmLogLine.address(vm.id),
                  new VmLogLine(vm.id, VmLogLine.STDERR, line, java.time.Instant.now()).toJson());
            })
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION,
            "cannot start QEMU (" + vm.command.get(0) + "): " + e.getMessage())))
        .map(process -> {
          vm.process = process;
          return null;
        });
  }

  /** The spawned QEMU's start time, which with its PID identifies it to a later manager; then state.json. */
  private Future<Void> recordIdentity(Vm vm) {
    return ProcessSnapshot.readStat(vertx, vm.process.pid()).compose(snapshot -> {
      snapshot.ifPresent(s -> vm.pidStartTime = s.startTime());
      persist(vm);
      return vm.saved;
    });
  }

  /**
   * QMP ready, or QEMU's exit with its stderr, whichever comes first; else, after MANAGER_QEMU_QMP_TIMEOUT,
   * UNAVAILABLE saying how far QEMU got: no socket, a socket but no greeting, or no answer to qmp_capabilities.
   */
  private Future<Void> connectQmp(Vm vm) {
    Promise<Void> ready = Promise.promise();
    Path socket = vm.paths.qmpSocket();
    vm.process.exit().onSuccess(code -> {
      sockets.forget(socket);
      String exited = "QEMU exited at once (" + exitDescription(code) + "): " + vm.stderrSummary();
      // Out of space for its pid file or console in the state dir, or for guest memory: exhausted, not misconfigured.
      ready.tryFail(NoSpaceLeft.in(vm.stderrSummary()) && vm.stderrSummary().contains(config.stateDir().toString())
          ? new ManagerException(ErrorKind.RESOURCE_EXHAUSTED, exited + " (state dir " + config.stateDir() + ")")
          : new ManagerException(ErrorKind.FAILED_PRECONDITION, exited));
    });
    Duration timeout = qemu.qmpTimeout();
    long deadline = System.nanoTime() + timeout.toNanos();
    sockets.appearance(context, socket)
        .timeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
        .recover(e -> {
          sockets.forget(socket);
          return Future.failedFuture(e instanceof java.util.concurrent.TimeoutException
              ? new QmpException("Timeout", "QEMU made no QMP socket " + socket) : e);
        })
        .compose(v -> QmpClient.connect(vertx, qmpNet, socket, Duration.ofNanos(deadline - System.nanoTime())))
        // A QEMU that closes QMP is exiting: its exit, with its stderr, is the better answer.
        .recover(e -> e instanceof QmpException q && "Disconnected".equals(q.errorClass())
            ? exitWithin(vm, STOP_STEP_TIMEOUT).transform(ignored -> Future.failedFuture(e))
            : Future.failedFuture(e))
        .onComplete(ar -> {
          if (ar.failed()) {
            ready.tryFail(qmpUnavailable(ar.cause(), timeout, vm.stderrSummary()));
          } else if (ready.future().isComplete()) {
            ar.result().close();
          } else {
            // Set before completing: what runs on completion (watch) uses it.
            vm.qmp = ar.result();
            ready.complete();
          }
        });
    return ready.future();
  }

  /** A new QEMU whose QMP did not come up: what happened, the bound if it ran out, and QEMU's stderr. */
  private static ManagerException qmpUnavailable(Throwable cause, Duration timeout, String stderr) {
    boolean timedOut = cause instanceof QmpException q && "Timeout".equals(q.errorClass());
    return new ManagerException(ErrorKind.UNAVAILABLE, cause.getMessage()
        + (timedOut ? " within " + timeout.toMillis() + " ms (MANAGER_QEMU_QMP_TIMEOUT)" : "")
        + "; QEMU's stderr: " + stderr);
  }

  private static String exitDescription(int code) {
    return code == ChildProcess.NOT_STARTED ? "exit status lost" : "exit code or signal " + code;
  }

  /**
   * A VM that ends by itself (guest power-off, crash, kill) is seen first by the end of its QMP connection, which
   * is immediate; the process exit (NuProcess polls for it) is the fallback. Either way it goes to STOPPED when QEMU
   * reported a SHUTDOWN first, else FAILED with the exit code or signal, and releases everything it had.
   */
  private void watch(Vm vm) {
    if (vm.qmp != null) {
      vm.qmp.eventHandler(event -> onQmpEvent(vm, event));
      vm.qmp.closeFuture().onComplete(v -> {
        // QEMU closes QMP as it exits, whether it was asked to (remove) or not.
        vm.process.expectExit(STOP_STEP_TIMEOUT);
        if (isLive(vm)) {
          exitStatus(vm, 25).onComplete(status -> ended(vm, status.result()));
        }
      });
    }
    vm.process.exit().onSuccess(code -> {
      if (isLive(vm)) {
        exitStatus(vm, 0).onComplete(status -> ended(vm, status.result()));
      }
    });
    // An adopted VM's console is read from its end: its earlier lines were published by the earlier manager.
    vertx.eventBus().send(Addresses.MONITOR_WATCH, new JsonObject().put("id", vm.id).put("port", vm.port)
        .put("consoleLog", vm.paths.consoleLog().toString()).put("fromEnd", vm.adopted));
  }

  private boolean isLive(Vm vm) {
    return vms.get(vm.id) == vm && vm.state == VmState.RUNNING;
  }

  private void onQmpEvent(Vm vm, QmpMessage.Event event) {
    switch (event.name()) {
      case "SHUTDOWN" -> vm.shutdownReason = "guest shut down (" + event.data().getString("reason", "") + ")";
      case "GUEST_PANICKED" -> publish(VmEvent.of(VmEvent.GUEST_PANIC, vm.id, event.data().encode()));
      default -> { }
    }
    publish(new VmEvent(VmEvent.QMP, vm.id, "", event.name(), java.time.Instant.now(), event.data().encode()));
  }

  /**
   * How QEMU ended: from /proc while it is a zombie (code and signal told apart), else from NuProcess's exit. The
   * QMP socket closes a moment before the process becomes a zombie: look again every 2 ms, {@code retries} times.
   */
  private Future<String> exitStatus(Vm vm, int retries) {
    String stat = "/proc/" + vm.process.pid() + "/stat";
    return vertx.fileSystem().readFile(stat)
        .map(buffer -> ExitStatus.fromZombieStat(buffer.toString()))
        .otherwise(Optional.empty())
        .compose(status -> {
          if (status.isPresent()) {
            return Future.succeededFuture("QEMU " + status.get());
          }
          if (vm.process.exited() && !vm.adopted) {
            return Future.succeededFuture("QEMU " + exitDescription(vm.process.exit().result()));
          }
          if (vm.process.exited()) {
            int code = vm.process.exit().result();
            return Future.succeededFuture(code == ChildProcess.NOT_STARTED
                ? "QEMU ended; its exit status is unknown (another process reaped it)"
                : "QEMU ended (exit code or signal " + code + ")");
          }
          if (retries > 0) {
            Promise<String> later = Promise.promise();
            vertx.setTimer(2, t -> exitStatus(vm, retries - 1).onComplete(later));
            return later.future();
          }
          return Future.succeededFuture("QMP connection lost");
        });
  }

  private void ended(Vm vm, String how) {
    if (!isLive(vm)) {
      return;
    }
    vms.remove(vm.id);
    cancelTtl(vm);
    boolean orderly = vm.shutdownReason != null;
    String reason = orderly ? vm.shutdownReason + "; " + how : how;
    metrics.qemuExited(orderly ? "orderly" : how.contains("signal") ? "killed" : "crashed");
    LOG.info("vm {}: ended by itself: {}; releasing its resources", vm.id, reason);
    transition(vm, orderly ? VmState.STOPPED : VmState.FAILED, reason);
    Future<Void> release = stopAndRelease(vm, false);
    stopping.put(vm.id, release);
    release.onComplete(ar -> stopping.remove(vm.id));
  }

  private void armTtl(Vm vm) {
    vm.ttlDeadline.ifPresent(deadline -> {
      long delay = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
      vm.ttlTimer = vertx.setTimer(delay, t -> {
        vm.ttlTimer = -1;
        if (vms.get(vm.id) == vm) {
          LOG.info("vm {}: TTL expired; removing", vm.id);
          remove(vm, "TTL expired", null);
        }
      });
    });
  }

  private void cancelTtl(Vm vm) {
    if (vm.ttlTimer >= 0) {
      vertx.cancelTimer(vm.ttlTimer);
      vm.ttlTimer = -1;
    }
  }

  // ---- adoption: the VMs an earlier manager left ----

  /**
   * Goes through {@code <state dir>/vms/}: every UUID-named directory is a VM of an earlier run, taken back if its
   * QEMU still runs, else reported and released (see {@link Adoption}). Anything else there is left alone.
   */
  private Future<Void> adoptAll() {
    String vmsDir = config.stateDir().resolve("vms").toString();
    long started = System.nanoTime();
    return vertx.fileSystem().exists(vmsDir)
        .compose(exists -> exists ? vertx.fileSystem().readDir(vmsDir) : Future.succeededFuture(List.<String>of()))
        .compose(entries -> {
          List<Future<String>> outcomes = new ArrayList<>();
          for (String entry : entries) {
            String id = java.nio.file.Path.of(entry).getFileName().toString();
            if (!DiskVerticle.isVmId(id)) {
              LOG.info("{}: not a VM directory (not a UUID); left alone", entry);
              continue;
            }
            outcomes.add(find(id)
                .map(found -> Adoption.decide(found, Instant.now()))
                .compose(this::carryOut)
                .otherwise(e -> {
                  LOG.warn("vm {}: adoption failed: {}", id, e.toString());
                  return "failed";
                }));
          }
          return Future.join(outcomes).transform(ar -> {
            Map<String, Long> counts = new java.util.TreeMap<>();
            outcomes.forEach(o -> counts.merge(o.result() == null ? "failed" : o.result(), 1L, Long::sum));
            outcomes.forEach(o -> metrics.adoption(o.result() == null ? "failed" : o.result()));
            if (!outcomes.isEmpty()) {
              LOG.info("adoption: {} VM directories in {} ms: {}", outcomes.size(),
                  Duration.ofNanos(System.nanoTime() - started).toMillis(), counts);
            }
            return Future.<Void>succeededFuture();
          });
        });
  }

  /** state.json, parsed or why not, and the processes its PID and the VM's qemu.pid name now. */
  private Future<Adoption.Found> find(String id) {
    VmPaths paths = VmPaths.of(config.stateDir(), id);
    Future<Optional<ProcessSnapshot>> fromPidFile = vertx.fileSystem().readFile(paths.pidFile().toString())
        .compose(text -> ProcessSnapshot.read(vertx, Long.parseLong(text.toString().trim())))
        .otherwise(Optional.empty());
    return vertx.fileSystem().readFile(paths.stateFile().toString())
        .transform(read -> {
          if (read.failed()) {
            return Future.succeededFuture(new Adoption.Found(id, Optional.empty(), "missing", Optional.empty(),
                Optional.empty()));
          }
          try {
            VmRecord record = VmRecord.parse(read.result().toString());
            return ProcessSnapshot.read(vertx, record.pid()).map(process -> new Adoption.Found(id,
                Optional.of(record), "", process, Optional.empty()));
          } catch (IllegalArgumentException e) {
            return Future.succeededFuture(new Adoption.Found(id, Optional.empty(), e.getMessage(), Optional.empty(),
                Optional.empty()));
          }
        })
        .compose(found -> fromPidFile.map(process -> new Adoption.Found(found.id(), found.record(), found.problem(),
            found.recordedProcess(), process)));
  }

  private Future<String> carryOut(Adoption.Decision decision) {
    if (decision instanceof Adoption.Adopt adopt) {
      return adopt(adopt);
    }
    Adoption.Ended ended = (Adoption.Ended) decision;
    LOG.warn("vm {}: {}; releasing its files", ended.id(), ended.reason());
    metrics.qemuExited("while-down");
    publish(VmEvent.state(ended.id(), ended.from(), ended.to().name(), ended.reason()));
    return releaseFiles(ended.id()).map("ended");
  }

  /**
   * Takes a running QEMU back: its port re-reserved (QEMU holds it, so no bind check), a new QMP connection (QEMU
   * serves the next client once the dead manager's is gone), its console followed, its TTL re-armed (one that
   * expired while the manager was down fires at once), and an {@code adopted} event.
   */
  private Future<String> adopt(Adoption.Adopt adopt) {
    VmRecord record = adopt.record();
    AdoptedProcess process = new AdoptedProcess(vertx, adopt.process());
    process.watch();
    Vm vm = Vm.adopt(record, VmPaths.of(config.stateDir(), record.id()), process, adopt.process().startTime());
    vms.put(vm.id, vm);
    adopt.warning().ifPresent(warning -> LOG.warn("vm {}: {}", vm.id, warning));
    Future<Void> port = vm.port <= 0 ? Future.succeededFuture()
        : request(Addresses.PORT_RESERVE, new JsonObject().put("id", vm.id).put("port", vm.port))
            .<Void>mapEmpty()
            .otherwise(e -> {
              LOG.warn("vm {}: its port {} could not be re-reserved: {}", vm.id, vm.port, e.getMessage());
              return null;
            });
    return port
        .compose(v -> QmpClient.connect(vertx, qmpNet, vm.paths.qmpSocket(), ADOPT_QMP_TIMEOUT))
        .compose(qmp -> {
          vm.qmp = qmp;
          return qmp.execute("query-status").timeout(ADOPT_QMP_TIMEOUT.toMillis(),
              java.util.concurrent.TimeUnit.MILLISECONDS);
        })
        .map(status -> {
          vm.paused = !"running".equals(((JsonObject) status).getString("status"));
          return null;
        })
        .otherwise(e -> {
          // Its end is then seen by /proc polling alone (every second), and a removal goes straight to signals.
          LOG.warn("vm {}: QMP did not answer ({}); adopted without it", vm.id, e.getMessage());
          if (vm.qmp != null) {
            vm.qmp.close();
            vm.qmp = null;
          }
          return null;
        })
        .map(v -> {
          persist(vm);
          String reason = "PID " + vm.process.pid() + ", port " + vm.port + (vm.paused ? ", paused" : "")
              + adopt.warning().map(w -> "; " + w).orElse("");
          LOG.info("vm {}: adopted ({})", vm.id, reason);
          publish(new VmEvent(VmEvent.ADOPTED, vm.id, "", VmState.RUNNING.name(), Instant.now(), reason));
          watch(vm);
          if (adopt.thenRemove().isPresent()) {
            remove(vm, adopt.thenRemove().get(), null);
            return "removed";
          }
          boolean expired = vm.ttlDeadline.map(d -> !d.isAfter(Instant.now())).orElse(false);
          armTtl(vm);
          return expired ? "removed" : "adopted";
        });
  }

  /** Leaves a running VM to the next manager: its record on disk, our QMP connection closed, nothing else. */
  private Future<Void> detach(Vm vm) {
    vms.remove(vm.id);
    cancelTtl(vm);
    if (vm.process instanceof AdoptedProcess adopted) {
      adopted.stopWatching();
    }
    vertx.eventBus().send(Addresses.MONITOR_UNWATCH, new JsonObject().put("id", vm.id));
    persist(vm);
    if (vm.unsaved) {
      LOG.warn("vm {}: its last state.json write failed; the next manager finds the record written before it",
          vm.id);
    }
    LOG.info("vm {}: left running for the next manager (pid {}, port {})", vm.id, vm.process.pid(), vm.port);
    Future<Void> closed = vm.qmp == null ? Future.succeededFuture() : vm.qmp.close().otherwiseEmpty();
    return closed.transform(ar -> vm.saved.otherwiseEmpty());
  }

  // ---- RemoveVm ----

  private void onRemove(Message<JsonObject> message) {
    String id = message.body().getString("id");
    Vm vm = vms.get(id);
    if (vm == null) {
      fail(message, new ManagerException(ErrorKind.NOT_FOUND, "VM " + ClientText.quote(id) + " not found"));
      return;
    }
    if (!vm.creation.isComplete() || vm.state != VmState.RUNNING) {
      fail(message, new ManagerException(ErrorKind.UNAVAILABLE, "VM " + vm.id + " is "
          + (vm.creation.isComplete() ? vm.state : "being created") + "; retry once it is running"));
      return;
    }
    remove(vm, "RemoveVm", Tracing.extract(message.headers())).onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(new JsonObject());
      } else {
        fail(message, ar.cause());
      }
    });
  }

  private Future<Void> remove(Vm vm, String why, SpanContext parent) {
    return remove(vm, why, parent, true);
  }

  /**
   * Takes the VM out of the table now (its id is NOT_FOUND from here on), then stops it and releases all;
   * {@code graceful}: the guest first gets its ACPI powerdown and MANAGER_QEMU_STOP_GRACE.
   */
  private Future<Void> remove(Vm vm, String why, SpanContext parent, boolean graceful) {
    vms.remove(vm.id);
    cancelTtl(vm);
    transition(vm, VmState.STOPPING, why);
    LOG.info("vm {}: stopping ({})", vm.id, why);
    long started = System.nanoTime();
    Future<Void> done = tracing.span("cvm.remove", parent, Map.of("cvm.vm.id", vm.id, "cvm.reason", why),
        span -> stopAndRelease(vm, graceful)).onComplete(ar -> {
      if (ar.succeeded()) {
        metrics.vmRemoved(Duration.ofNanos(System.nanoTime() - started));
        metrics.qemuExited("removed");
        transition(vm, VmState.STOPPED, why);
        LOG.info("vm {}: removed", vm.id);
      } else {
        transition(vm, VmState.FAILED, why + ": " + ar.cause().getMessage());
      }
    });
    stopping.put(vm.id, done);
    return done.eventually(() -> {
      stopping.remove(vm.id);
      return Future.succeededFuture();
    });
  }

  /**
   * Stops QEMU, then releases its port and files. A QEMU that outlives every step keeps them until it exits (its
   * exit is still watched): the files of a live VM are never deleted, nor its port handed to another.
   */
  private Future<Void> stopAndRelease(Vm vm, boolean graceful) {
    return stopProcess(vm, graceful).compose(v -> release(vm), error -> {
      LOG.error("vm {}: {}; its port and files are kept until it exits", vm.id, error.getMessage());
      vm.process.exit().onComplete(ar -> release(vm));
      return Future.failedFuture(error);
    });
  }

  /**
   * When {@code graceful}, ACPI powerdown (not for a paused VM: its guest cannot act on it) and
   * MANAGER_QEMU_STOP_GRACE to obey; then QMP quit (when there is a QMP connection to send it on), SIGTERM,
   * SIGKILL, each given a few seconds; completes once the process has exited and been reaped. A create being
   * undone is not graceful: its guest has barely started, and no client knows it.
   */
  private Future<Void> stopProcess(Vm vm, boolean graceful) {
    if (vm.process == null) {
      return Future.succeededFuture();
    }
    Future<Boolean> powerdown = !graceful || vm.paused || vm.qmp == null
        ? Future.succeededFuture(vm.exited())
        : qmpQuietly(vm, "system_powerdown").compose(v -> exitWithin(vm, qemu.stopGrace()));
    return powerdown
        .compose(gone -> gone || vm.qmp == null ? Future.succeededFuture(gone)
            : qmpQuietly(vm, "quit").compose(v -> exitWithin(vm, STOP_STEP_TIMEOUT)))
        .compose(gone -> gone ? Future.succeededFuture(true)
            : signal(vm, false).compose(v -> exitWithin(vm, STOP_STEP_TIMEOUT)))
        .compose(gone -> gone ? Future.succeededFuture(true)
            : signal(vm, true).compose(v -> exitWithin(vm, STOP_STEP_TIMEOUT)))
        .compose(gone -> gone ? Future.<Void>succeededFuture()
            : Future.failedFuture(new ManagerException(ErrorKind.INTERNAL,
                "QEMU (pid " + vm.process.pid() + ") survived SIGKILL")));
  }

  private Future<Void> qmpQuietly(Vm vm, String command) {
    if (vm.qmp == null) {
      return Future.succeededFuture();
    }
    // Bounded: a stopped or stuck QEMU never answers, and the signals come next.
    return vm.qmp.execute(command).timeout(STOP_STEP_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .<Void>mapEmpty().otherwiseEmpty();
  }

  private Future<Boolean> exitWithin(Vm vm, Duration timeout) {
    if (vm.exited()) {
      return Future.succeededFuture(true);
    }
    Promise<Boolean> result = Promise.promise();
    if (vm.qmp == null || vm.qmp.closeFuture().isComplete()) {
      // No QMP connection to end at QEMU's exit: an adopted QEMU's is looked for in /proc meanwhile.
      vm.process.expectExit(timeout);
    }
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> result.tryComplete(false));
    vm.process.exit().onComplete(ar -> {
      vertx.cancelTimer(timer);
      result.tryComplete(true);
    });
    return result.future();
  }

  /**
   * Under sudo the process we hold is sudo, and QEMU is root's: QEMU itself is signalled, through sudo, by the PID
   * in its pid file — once /proc shows that PID is this VM's QEMU (a stale pid file must not make root kill another
   * process). Whether the VM runs under sudo is what it was launched with, not today's configuration. Should that
   * fail, SIGTERM goes to sudo, which passes it on; SIGKILL never does (it would end sudo and leave QEMU running).
   */
  private Future<Void> signal(Vm vm, boolean kill) {
    LOG.info("vm {}: sending {}", vm.id, kill ? "SIGKILL" : "SIGTERM");
    if (!vm.launchConfig.getBoolean("useSudo", qemu.useSudo())) {
      vm.process.signal(kill);
      return Future.succeededFuture();
    }
    return vertx.fileSystem().readFile(vm.paths.pidFile().toString())
        .compose(text -> ProcessSnapshot.read(vertx, Long.parseLong(text.toString().trim())))
        .compose(process -> Adoption.ourQemu(vm.id, process)
            .map(Future::succeededFuture)
            .orElseGet(() -> Future.failedFuture("qemu.pid names no running QEMU of this VM")))
        .compose(qemuProcess -> ChildProcess.run(context,
            List.of("sudo", "kill", kill ? "-KILL" : "-TERM", String.valueOf(qemuProcess.pid()))))
        .compose(result -> result.succeeded() ? Future.<Void>succeededFuture()
            : Future.failedFuture("sudo kill: " + result.stderr().strip()))
        .recover(e -> {
          LOG.warn("vm {}: signalling QEMU through sudo failed: {}", vm.id, e.getMessage());
          if (!kill) {
            vm.process.signal(false);
          }
          return Future.succeededFuture();
        });
  }

  /** Closes QMP, releases the port and deletes the VM's directory (once its last state write has landed). */
  private Future<Void> release(Vm vm) {
    vertx.eventBus().send(Addresses.MONITOR_UNWATCH, new JsonObject().put("id", vm.id));
    vm.persistent = false;
    Future<Void> qmpClosed = vm.qmp == null ? Future.succeededFuture() : vm.qmp.close().otherwiseEmpty();
    return qmpClosed
        .transform(ar -> vm.saved.otherwiseEmpty())
        .transform(ar -> releasePort(vm.port))
        .transform(ar -> releaseFiles(vm.id))
        .mapEmpty();
  }

  private Future<JsonObject> releasePort(int port) {
    return request(Addresses.PORT_RELEASE, new JsonObject().put("port", port));
  }

  private Future<JsonObject> releaseFiles(String id) {
    return request(Addresses.FILES_RELEASE, new JsonObject().put("id", id));
  }

  // ---- events ----

  /** The single place a VM changes state: checked against the state machine, then published. */
  private void transition(Vm vm, VmState next, String reason) {
    VmState from = vm.state;
    vm.moveTo(next);
    if (!next.isFinal()) {
      persist(vm);
    }
    publish(VmEvent.state(vm.id, from.name(), next.name(), reason));
  }

  /**
   * Queues a state.json write of the VM as it is now, after the VM's earlier writes. A failed write of a VM being
   * created fails its create (the saga waits for its records); of a running VM, it is retried until a write lands,
   * and reported meanwhile (event, {@code cvm_state_write_failures_total}, {@code /health} degraded).
   */
  private void persist(Vm vm) {
    persist(vm, STATE_RETRY_FIRST);
  }

  private void persist(Vm vm, Duration nextRetry) {
    if (!vm.persistent) {
      return;
    }
    VmRecord record = vm.record();
    Future<Void> write = vm.saved.transform(ar -> StateFile.write(vertx, vm.paths, record));
    vm.saved = write;
    write.onComplete(ar -> {
      if (ar.succeeded()) {
        if (vm.unsaved && vm.saved == write) {
          vm.unsaved = false;
          LOG.info("vm {}: state.json written again", vm.id);
          publish(VmEvent.of(VmEvent.STATE_SAVED, vm.id, "state.json written again"));
        }
        return;
      }
      metrics.stateWriteFailed();
      LOG.warn("vm {}: writing state.json failed: {}", vm.id, ar.cause().getMessage());
      boolean created = vm.creation.isComplete() && vm.creation.succeeded() && vm.state == VmState.RUNNING;
      if (!created || vms.get(vm.id) != vm) {
        return;
      }
      if (!vm.unsaved) {
        vm.unsaved = true;
        publish(VmEvent.of(VmEvent.STATE_UNSAVED, vm.id, "writing state.json failed: " + ar.cause().getMessage()
            + "; retrying"));
      }
      vertx.setTimer(nextRetry.toMillis(), t -> {
        // A newer write stands in for this one; a VM gone meanwhile needs none.
        if (vm.saved == write && vms.get(vm.id) == vm) {
          Duration doubled = nextRetry.multipliedBy(2);
          persist(vm, doubled.compareTo(STATE_RETRY_MAX) > 0 ? STATE_RETRY_MAX : doubled);
        }
      });
    });
  }

  /** What state.json keeps of the configuration a VM was launched with. */
  private JsonObject launchConfig() {
    return new JsonObject()
        .put("instanceId", config.instanceId())
        .put("qemuBinary", qemu.binPath())
        .put("useSudo", qemu.useSudo())
        .put("machine", qemu.machine())
        .put("cpu", qemu.cpu())
        .put("enableKvm", qemu.enableKvm())
        .put("memory", qemu.memory().size())
        .put("smp", qemu.smp().count())
        .put("bootMode", qemu.disk().enabled() ? "disk" : "kernel")
        .put("tee", tee.name())
        .put("startPaused", qemu.startPaused())
        .put("guestAgentPort", qemu.net().guestFwdAgent())
        .put("eosVersion", config.eosVersion());
  }

  private void publish(VmEvent event) {
    vertx.eventBus().publish(VmEvent.ADDRESS, event.toJson());
  }

  /** What the monitor saw (agent answering or not): a flag on the VM, and an event. */
  private void onObserved(Message<JsonObject> message) {
    Vm vm = vms.get(message.body().getString("id"));
    String type = message.body().getString("type");
    if (vm == null || vm.state != VmState.RUNNING) {
      return;
    }
    boolean ready = VmEvent.AGENT_READY.equals(type);
    if (ready != vm.agentReady) {
      vm.agentReady = ready;
      publish(VmEvent.of(type, vm.id, message.body().getString("reason", "")));
    }
  }

  // ---- queries ----

  private void onGet(Message<JsonObject> message) {
    String id = message.body().getString("id");
    Vm vm = vms.get(id);
    if (vm == null) {
      fail(message, new ManagerException(ErrorKind.NOT_FOUND, "VM " + ClientText.quote(id) + " not found"));
    } else {
      message.reply(vm.view().toJson());
    }
  }

  private void onQmpQuery(Message<JsonObject> message) {
    String id = message.body().getString("id");
    String command = message.body().getString("command", "");
    Vm vm = vms.get(id);
    if (vm == null || vm.qmp == null) {
      fail(message, new ManagerException(ErrorKind.NOT_FOUND, "VM " + ClientText.quote(id) + " not found"));
    } else if (!command.matches("query-[a-z0-9-]+")) {
      fail(message, new ManagerException(ErrorKind.INVALID_ARGUMENT, "only query-* QMP commands are allowed"));
    } else {
      vm.qmp.execute(command).onComplete(ar -> {
        if (ar.succeeded()) {
          message.reply(new JsonObject().put("return", ar.result()));
        } else {
          fail(message, new ManagerException(ErrorKind.FAILED_PRECONDITION, ar.cause().getMessage()));
        }
      });
    }
  }

  private Future<JsonObject> request(String address, JsonObject body) {
    return request(address, body, config.grpcTimeout());
  }

  private Future<JsonObject> request(String address, JsonObject body, Duration timeout) {
    return vertx.eventBus().<JsonObject>request(address, body,
            new DeliveryOptions().setSendTimeout(timeout.toMillis()))
        .map(Message::body)
        .recover(e -> Future.failedFuture(e instanceof ReplyException reply && reply.failureCode() > 0
            ? new ManagerException(ErrorKind.fromCode(reply.failureCode()), reply.getMessage())
            : e));
  }

  private static void fail(Message<?> message, Throwable error) {
    ErrorKind kind = error instanceof ManagerException m ? m.kind() : ErrorKind.INTERNAL;
    message.fail(kind.code(), error.getMessage());
  }
}
