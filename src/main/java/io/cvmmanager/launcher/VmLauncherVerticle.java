package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.QmpQuery;
import io.cvmmanager.bus.Messages.QmpResult;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmObserved;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.config.QemuConfig;
import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.qmp.KvmStats;
import io.cvmmanager.qmp.QmpClient;
import io.cvmmanager.qmp.SocketWatcher;
import io.cvmmanager.tracing.Tracing;
import io.cvmmanager.vm.Tee;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmUsage;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetClient;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VM launcher: the single writer of VM state, on one event loop, wired to the bus here and made of parts with
 * one job each — {@link VmTable} (the table, every transition, state.json, events), {@link CreateSaga} (CreateVm),
 * {@link QemuStart} (spawn to QMP), {@link Removal} and {@link StopSequence} (how a VM leaves), {@link ExitWatch}
 * (how an exit is noticed), {@link AdoptionScan} (the VMs of an earlier run), {@link TtlTimers}. Nothing here
 * blocks: many VMs start and stop concurrently.
 */
public final class VmLauncherVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(VmLauncherVerticle.class);
  /** How long each of quit, SIGTERM and SIGKILL gets to end QEMU before the next is tried. */
  static final Duration STOP_STEP_TIMEOUT = Duration.ofSeconds(5);

  private final ManagerConfig config;
  private final Tee tee;
  private final ManagerMetrics metrics;
  private final Tracing tracing;
  private NetClient qmpNet;
  private SocketWatcher sockets;
  private VmTable table;
  private CreateSaga saga;
  private Removal removal;
  private AdoptionScan adoption;

  public VmLauncherVerticle(ManagerConfig config, Tee tee, ManagerMetrics metrics, Tracing tracing) {
    this.config = config;
    this.tee = tee;
    this.metrics = metrics;
    this.tracing = tracing;
  }

  @Override
  public Future<?> start() throws Exception {
    qmpNet = QmpClient.netClient(vertx);
    sockets = new SocketWatcher();
    Bus bus = Bus.of(vertx);
    // The inventory verticle is deployed before this one: admission starts from the host as it was just read.
    return bus.request(Addresses.HOST_INVENTORY_GET, Nothing.INSTANCE, config.grpcTimeout())
        .compose(inventory -> {
          wire(bus, new HostAccounts(inventory, config, tee, () -> table.size()));
          // The API is deployed after this verticle: no call is taken before the VMs of the last run are back.
          return adoption.adoptAll();
        });
  }

  private void wire(Bus bus, HostAccounts accounts) {
    QemuConfig qemu = config.qemu();
    table = new VmTable(vertx, metrics);
    TtlTimers ttl = new TtlTimers(vertx);
    StopSequence stopSequence = new StopSequence(vertx, context,
        new StopSequence.Timing(qemu.stopGrace(), STOP_STEP_TIMEOUT), qemu.useSudo(), "sudo");
    removal = new Removal(vertx, table, stopSequence, ttl, accounts, tracing, metrics, config.grpcTimeout());
    ExitWatch exitWatch = new ExitWatch(vertx, table, removal, STOP_STEP_TIMEOUT);
    QemuStart qemuStart = new QemuStart(context, table, stopSequence, sockets, qmpNet, qemu.qmpTimeout(),
        config.stateDir(), STOP_STEP_TIMEOUT);
    saga = new CreateSaga(vertx, config, tee, table, accounts, qemuStart, stopSequence, removal, exitWatch, ttl,
        metrics, tracing);
    adoption = new AdoptionScan(vertx, config.stateDir(), table, accounts, removal, exitWatch, ttl, qmpNet, metrics,
        config.grpcTimeout());

    bus.serve(Addresses.VM_CREATE, (create, headers) -> saga.create(create, Tracing.extract(headers)));
    bus.serve(Addresses.VM_CREATE_ABANDON, abandon -> saga.abandon(abandon.callId()).map(Nothing.INSTANCE));
    bus.serve(Addresses.VM_REMOVE, this::onRemove);
    bus.serve(Addresses.VM_GET, vm -> Future.succeededFuture(table.require(vm.id()).view()));
    bus.serve(Addresses.VM_LIST, query -> Future.succeededFuture(table.list()));
    bus.serve(Addresses.VM_QMP_QUERY, this::onQmpQuery);
    bus.serve(Addresses.HOST_GET, query -> Future.succeededFuture(accounts.view()));
    bus.consume(Addresses.VM_OBSERVED, this::onObserved);
    bus.consume(Addresses.VM_USAGE, this::onUsage);
    bus.consume(Addresses.HOST_INVENTORY, accounts::update);
  }

  /**
   * By default (MANAGER_STOP_VMS_ON_EXIT=false) running VMs are left running and their state on disk, for the next
   * manager to adopt: the QMP connections are closed (QEMU takes the next manager's), nothing else. VMs still
   * being created are cut short at their saga's next step, which undoes what it made (their client has no id
   * yet); removals under way are finished. With MANAGER_STOP_VMS_ON_EXIT=true every running VM is removed first.
   */
  @Override
  public Future<?> stop() {
    List<Future<Void>> all = new ArrayList<>();
    for (Vm vm : table.all()) {
      // Until its RUNNING record is durable a VM is still being created, even once its state says RUNNING.
      if (!vm.creation.isComplete()) {
        vm.cancelled = Optional.of("the manager is stopping");
        all.add(vm.creation.otherwiseEmpty());
      } else if (vm.state != VmState.RUNNING) {
        continue;
      } else if (config.stopVmsOnExit()) {
        all.add(removal.remove(vm, "manager stopping", null, true));
      } else {
        all.add(adoption.leave(vm));
      }
    }
    return Future.join(all).transform(ar -> table.released()).transform(ar -> {
      try {
        sockets.close();
      } catch (IOException e) {
        LOG.debug("closing the socket watcher: {}", e.toString());
      }
      return qmpNet.close();
    });
  }

  /**
   * RemoveVm: accepted for a created, running VM; a VM already being removed is NOT_FOUND (as upstream, whose VM is
   * gone once its removal is accepted), one being created UNAVAILABLE (retry). The reply comes once all is released.
   */
  private Future<Nothing> onRemove(VmId request, MultiMap headers) {
    Vm vm = table.get(request.id()).filter(found -> found.state != VmState.STOPPING)
        .orElseThrow(() -> VmView.notFound(request.id()));
    if (!vm.isCreated() || vm.state != VmState.RUNNING) {
      throw new ManagerException(ErrorKind.UNAVAILABLE, "VM " + vm.id + " is "
          + (vm.isCreated() ? vm.state : "being created") + "; retry once it is running");
    }
    return removal.remove(vm, "RemoveVm", Tracing.extract(headers), true).map(Nothing.INSTANCE);
  }

  /** What the monitor saw (agent answering or not): a flag on the VM, and an event when it changes. */
  private void onObserved(VmObserved observed) {
    table.get(observed.id()).filter(vm -> vm.state == VmState.RUNNING).ifPresent(vm -> {
      boolean ready = VmEvent.AGENT_READY.equals(observed.type());
      if (ready != vm.agentReady) {
        vm.agentReady = ready;
        table.publish(VmEvent.of(observed.type(), vm.id, observed.reason()));
      }
    });
  }

  /**
   * The monitor's sample of a VM's usage, with KVM's statistics added from QMP (none under TCG, nor from a QEMU
   * older than 7.1, which has no query-stats): kept on the VM (GetVm, ListVms) and in its metrics.
   */
  private void onUsage(VmUsage sample) {
    table.get(sample.id()).ifPresent(vm -> kvmStats(vm).onSuccess(stats -> {
      if (table.holds(vm)) {
        vm.usage = Optional.of(sample.withKvmStats(stats));
        metrics.vmUsage(sample);
      }
    }));
  }

  /** None without a QMP connection, or when QEMU does not answer within the QMP timeout. */
  private Future<Map<String, Double>> kvmStats(Vm vm) {
    return vm.qmp == null ? Future.succeededFuture(Map.of())
        : KvmStats.query(vm.qmp).timeout(config.qemu().qmpTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .otherwise(Map.of());
  }

  /** A read-only QMP query ({@code query-*}) on the launcher's connection, the one QEMU serves. */
  private Future<QmpResult> onQmpQuery(QmpQuery query) {
    Vm vm = table.get(query.id()).filter(found -> found.qmp != null)
        .orElseThrow(() -> VmView.notFound(query.id()));
    if (!query.command().matches("query-[a-z0-9-]+")) {
      throw new ManagerException(ErrorKind.INVALID_ARGUMENT, "only query-* QMP commands are allowed");
    }
    return vm.qmp.execute(query.command()).map(QmpResult::new)
        .recover(e -> Future.failedFuture(new ManagerException(ErrorKind.FAILED_PRECONDITION, e.getMessage())));
  }
}
