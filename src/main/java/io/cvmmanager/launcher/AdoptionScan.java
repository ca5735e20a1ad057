package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.disk.DiskVerticle;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.process.AdoptedProcess;
import io.cvmmanager.process.ProcessSnapshot;
import io.cvmmanager.qemu.VmPaths;
import io.cvmmanager.qmp.QmpClient;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VMs of an earlier run: at start-up every UUID-named directory under {@code <state dir>/vms/} is read, and
 * its QEMU taken back if it still runs, else reported and released (the decision is {@link Adoption}'s, pure);
 * anything else there is left alone. At a stop that leaves VMs running, the other half: a VM is left for the next
 * manager.
 */
final class AdoptionScan {
  private static final Logger LOG = LoggerFactory.getLogger(AdoptionScan.class);
  /** How long an adopted QEMU gets to answer on its QMP socket. */
  static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Bus bus;
  private final Path stateDir;
  private final VmTable table;
  private final HostAccounts accounts;
  private final Removal removal;
  private final ExitWatch exitWatch;
  private final TtlTimers ttl;
  private final NetClient qmpNet;
  private final ManagerMetrics metrics;
  private final Duration busTimeout;

  AdoptionScan(Vertx vertx, Path stateDir, VmTable table, HostAccounts accounts, Removal removal,
      ExitWatch exitWatch, TtlTimers ttl, NetClient qmpNet, ManagerMetrics metrics, Duration busTimeout) {
    this.vertx = vertx;
    this.bus = Bus.of(vertx);
    this.stateDir = stateDir;
    this.table = table;
    this.accounts = accounts;
    this.removal = removal;
    this.exitWatch = exitWatch;
    this.ttl = ttl;
    this.qmpNet = qmpNet;
    this.metrics = metrics;
    this.busTimeout = busTimeout;
  }

  Future<Void> adoptAll() {
    String vmsDir = stateDir.resolve("vms").toString();
    long started = System.nanoTime();
    return vertx.fileSystem().exists(vmsDir)
        .compose(exists -> exists ? vertx.fileSystem().readDir(vmsDir) : Future.succeededFuture(List.<String>of()))
        .compose(entries -> {
          List<Future<String>> outcomes = new ArrayList<>();
          for (String entry : entries) {
            String id = Path.of(entry).getFileName().toString();
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
            Map<String, Long> counts = new TreeMap<>();
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
    VmPaths paths = VmPaths.of(stateDir, id);
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
    table.publish(VmEvent.state(ended.id(), ended.from(), ended.to().name(), ended.reason()));
    return removal.releaseFiles(ended.id()).map("ended");
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
    Vm vm = Vm.adopt(record, VmPaths.of(stateDir, record.id()), process, adopt.process().startTime());
    table.add(vm);
    // It runs already: it holds what its record says, even past what the host has now.
    accounts.adopt(vm.claim);
    adopt.warning().ifPresent(warning -> LOG.warn("vm {}: {}", vm.id, warning));
    Future<Void> port = vm.port <= 0 ? Future.succeededFuture()
        : bus.request(Addresses.PORT_RESERVE, new ReservePort(vm.id, vm.port), busTimeout)
            .<Void>mapEmpty()
            .otherwise(e -> {
              LOG.warn("vm {}: its port {} could not be re-reserved: {}", vm.id, vm.port, e.getMessage());
              return null;
            });
    return port
        .compose(v -> QmpClient.connect(vertx, qmpNet, vm.paths.qmpSocket(), QMP_TIMEOUT))
        .compose(qmp -> {
          vm.qmp = qmp;
          return qmp.execute("query-status").timeout(QMP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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
          table.persist(vm);
          String reason = "PID " + vm.process.pid() + ", port " + vm.port + (vm.paused ? ", paused" : "")
              + adopt.warning().map(w -> "; " + w).orElse("");
          LOG.info("vm {}: adopted ({})", vm.id, reason);
          table.publish(new VmEvent(VmEvent.ADOPTED, vm.id, "", VmState.RUNNING.name(), Instant.now(), reason));
          exitWatch.watch(vm);
          if (adopt.thenRemove().isPresent()) {
            removal.remove(vm, adopt.thenRemove().get(), null, true);
            return "removed";
          }
          boolean expired = TtlTimers.expired(vm);
          ttl.arm(vm, removal::expire);
          return expired ? "removed" : "adopted";
        });
  }

  /** Leaves a running VM to the next manager: its record on disk, our QMP connection closed, nothing else. */
  Future<Void> leave(Vm vm) {
    table.leave(vm);
    ttl.cancel(vm);
    if (vm.process instanceof AdoptedProcess adopted) {
      adopted.stopWatching();
    }
    bus.send(Addresses.MONITOR_UNWATCH, new VmId(vm.id));
    table.persist(vm);
    if (vm.unsaved) {
      LOG.warn("vm {}: its last state.json write failed; the next manager finds the record written before it",
          vm.id);
    }
    LOG.info("vm {}: left running for the next manager (pid {}, port {})", vm.id, vm.process.pid(), vm.port);
    Future<Void> closed = vm.qmp == null ? Future.succeededFuture() : vm.qmp.close().otherwiseEmpty();
    return closed.transform(ar -> vm.saved.otherwiseEmpty());
  }
}
