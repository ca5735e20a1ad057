package io.cvmmanager.monitor;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmObserved;
import io.cvmmanager.bus.Messages.WatchVm;
import io.cvmmanager.config.ManagerConfig;
import io.cvmmanager.text.LineSplitter;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmLogLine;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches running VMs from outside QEMU: tails each VM's serial console ({@code console.log}, for VMs this
 * manager spawned and adopted alike) line by line onto {@code cvm.logs.<id>}, keeps that file under
 * MANAGER_CONSOLE_LOG_MAX_SIZE, and probes each agent port every MANAGER_AGENT_PROBE_INTERVAL, telling the launcher
 * when the agent starts or stops answering, and reads every VM's usage from /proc every MANAGER_USAGE_INTERVAL,
 * sending it to the launcher. QMP events and process exits are the launcher's: it holds the one QMP connection QEMU
 * serves and is the single writer of VM state. One timer per job for all VMs; no thread per VM.
 */
public final class MonitorVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(MonitorVerticle.class);
  static final long CONSOLE_POLL_MS = 200;
  private static final int READ_CHUNK = 64 * 1024;
  /** A console line longer than this (a guest that writes without newlines) is published in pieces of this size. */
  public static final int MAX_LINE_BYTES = 64 * 1024;

  private final ManagerConfig.Observation observation;
  private final Map<String, Watched> watched = new HashMap<>();
  private final ProcUsage usage;
  private AgentPortProbe agentPort;
  private Bus bus;
  private boolean sampling;

  /** One VM under watch. Touched on this verticle's event loop only. */
  private static final class Watched {
    final String id;
    final int port;
    final String consoleLog;
    final LineSplitter console;
    final long pid;
    final Path pidFile;
    long offset;
    boolean reading;
    boolean probing;
    boolean agentReady;

    Watched(String id, int port, String consoleLog, LineSplitter console, long pid, Path pidFile) {
      this.id = id;
      this.port = port;
      this.consoleLog = consoleLog;
      this.console = console;
      this.pid = pid;
      this.pidFile = pidFile;
    }
  }

  public MonitorVerticle(ManagerConfig.Observation observation) {
    this(observation, Path.of("/proc"));
  }

  /** {@code proc}: where usage is read from (a tree of fake files in tests). */
  MonitorVerticle(ManagerConfig.Observation observation, Path proc) {
    this.observation = observation;
    this.usage = new ProcUsage(proc);
  }

  @Override
  public Future<?> start() {
    agentPort = new AgentPortProbe(vertx);
    bus = Bus.of(vertx);
    bus.consume(Addresses.MONITOR_WATCH, this::onWatch);
    bus.consume(Addresses.MONITOR_UNWATCH, this::onUnwatch);
    vertx.setPeriodic(CONSOLE_POLL_MS, t -> watched.values().forEach(this::readConsole));
    long probeMs = observation.agentProbeInterval().toMillis();
    if (probeMs > 0) {
      vertx.setPeriodic(probeMs, t -> watched.values().forEach(this::probe));
    }
    long usageMs = observation.usageInterval().toMillis();
    if (usageMs > 0) {
      vertx.setPeriodic(usageMs, t -> sampleUsage());
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    return agentPort.close();
  }

  private void onWatch(WatchVm request) {
    String id = request.id();
    Watched vm = new Watched(id, request.port(), request.consoleLog(),
        new LineSplitter(MAX_LINE_BYTES, line -> publishLine(id, line)), request.pid(), Path.of(request.pidFile()));
    watched.put(vm.id, vm);
    if (request.fromEnd()) {
      vm.reading = true;
      vertx.fileSystem().props(vm.consoleLog).onComplete(props -> {
        vm.offset = props.succeeded() ? props.result().size() : 0;
        vm.reading = false;
      });
    } else {
      readConsole(vm);
    }
    if (observation.agentProbeInterval().toMillis() > 0) {
      probe(vm);
    }
  }

  private void onUnwatch(VmId request) {
    Watched vm = watched.remove(request.id());
    if (vm != null) {
      vm.console.end();
    }
  }

  // ---- console ----

  private void readConsole(Watched vm) {
    if (vm.reading) {
      return;
    }
    vm.reading = true;
    vertx.fileSystem().props(vm.consoleLog)
        .compose(props -> props.size() > vm.offset ? readFrom(vm, props.size())
            : props.size() < vm.offset ? restart(vm) : Future.succeededFuture())
        .compose(v -> cap(vm))
        .onComplete(ar -> vm.reading = false);
  }

  /** The file shrank under us (cut back, or replaced): read it again from the start. */
  private Future<Void> restart(Watched vm) {
    vm.offset = 0;
    return Future.succeededFuture();
  }

  private Future<Void> readFrom(Watched vm, long size) {
    long length = Math.min(size - vm.offset, READ_CHUNK);
    return vertx.fileSystem().open(vm.consoleLog, new OpenOptions().setRead(true).setWrite(false).setCreate(false))
        .compose(file -> file.read(Buffer.buffer((int) length), 0, vm.offset, (int) length)
            .eventually(file::close))
        .map(chunk -> {
          vm.offset += chunk.length();
          vm.console.accept(chunk.getBytes());
          return null;
        });
  }

  private void publishLine(String id, String line) {
    bus.publish(Addresses.VM_LOGS.at(id), new VmLogLine(id, VmLogLine.CONSOLE, line, Instant.now()));
  }

  /**
   * Once what was read passes the cap, the file becomes console.log.1 (a copy, replacing the previous one) and
   * console.log is cut to zero; QEMU writes with O_APPEND, so it goes on at the new end. As with logrotate's
   * copytruncate, what QEMU writes between the copy and the cut is lost, and what was not read yet (the file is
   * read {@code READ_CHUNK} per poll) is in console.log.1 but never published. About twice the cap on disk per
   * VM, more while the guest writes faster than the console is read.
   */
  private Future<Void> cap(Watched vm) {
    long max = observation.consoleLogMaxBytes();
    if (max <= 0 || vm.offset < max) {
      return Future.succeededFuture();
    }
    String previous = vm.consoleLog + ".1";
    return vertx.fileSystem().copy(vm.consoleLog, previous)
        .compose(v -> vertx.fileSystem().truncate(vm.consoleLog, 0))
        .onSuccess(v -> {
          LOG.info("vm {}: console.log reached {} bytes; moved to console.log.1", vm.id, vm.offset);
          vm.offset = 0;
        })
        .otherwiseEmpty()
        .mapEmpty();
  }

  // ---- agent port ----

  /** One probe at a time per VM; the launcher hears of changes only. */
  private void probe(Watched vm) {
    if (vm.probing) {
      return;
    }
    vm.probing = true;
    agentPort.answers(vm.port).onSuccess(ready -> {
      vm.probing = false;
      if (ready != vm.agentReady && watched.get(vm.id) == vm) {
        vm.agentReady = ready;
        bus.send(Addresses.VM_OBSERVED, new VmObserved(vm.id, ready ? VmEvent.AGENT_READY : VmEvent.AGENT_LOST,
            "agent port " + vm.port + (ready ? " answers" : " no longer answers")));
      }
    });
  }

  // ---- usage ----

  /**
   * Every watched VM's usage in one blocking job on a worker (procfs has no asynchronous reads), one at a time; each
   * sample of a VM still watched goes to the launcher.
   */
  private void sampleUsage() {
    if (sampling || watched.isEmpty()) {
      return;
    }
    sampling = true;
    List<Watched> vms = List.copyOf(watched.values());
    vertx.executeBlocking(() -> vms.stream()
            .flatMap(vm -> usage.sample(vm.id, vm.pidFile, vm.pid, Instant.now()).stream()).toList(), false)
        .onSuccess(samples -> samples.stream().filter(sample -> watched.containsKey(sample.id()))
            .forEach(sample -> bus.send(Addresses.VM_USAGE, sample)))
        .onComplete(ar -> sampling = false);
  }
}
