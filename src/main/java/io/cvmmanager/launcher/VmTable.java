package io.cvmmanager.launcher;

import io.cvmmanager.bus.Addresses;
import io.cvmmanager.bus.Bus;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.metrics.ManagerMetrics;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmState;
import io.cvmmanager.vm.VmView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VM table, and the single place a VM changes state: each transition is checked against the state machine,
 * written to state.json (while not final) and published. A VM is in the table from CREATING until it is final
 * (STOPPING VMs included: their QEMU still runs, they count against MANAGER_MAX_VMS, and ListVms shows them); a
 * final VM leaves it, and what it still holds while being released is tracked here until it is let go.
 */
final class VmTable {
  private final Bus bus;
  private final ManagerMetrics metrics;
  private final StateWriter state;
  /** Every VM that is not final, by id. Its size is what MANAGER_MAX_VMS limits. */
  private final Map<String, Vm> vms = new LinkedHashMap<>();
  /** Final VMs whose port and files are still being released, by id; the launcher's stop waits for them. */
  private final Map<String, Future<Void>> releasing = new LinkedHashMap<>();

  VmTable(Vertx vertx, ManagerMetrics metrics) {
    this.bus = Bus.of(vertx);
    this.metrics = metrics;
    this.state = new StateWriter(vertx, metrics, this::publish,
        vm -> vm.isCreated() && vm.state == VmState.RUNNING && holds(vm));
  }

  void add(Vm vm) {
    vms.put(vm.id, vm);
  }

  Optional<Vm> get(String id) {
    return Optional.ofNullable(vms.get(id));
  }

  /** The VM of this id, or NOT_FOUND quoting the id. */
  Vm require(String id) {
    return get(id).orElseThrow(() -> VmView.notFound(id));
  }

  List<Vm> all() {
    return List.copyOf(vms.values());
  }

  int size() {
    return vms.size();
  }

  /** This very VM (not another of its id) is in the table. */
  boolean holds(Vm vm) {
    return vms.get(vm.id) == vm;
  }

  /** In the table and RUNNING: what a TTL, an exit or an observation still applies to. */
  boolean isLive(Vm vm) {
    return holds(vm) && vm.state == VmState.RUNNING;
  }

  Optional<Vm> byCallId(String callId) {
    return callId.isEmpty() ? Optional.empty()
        : vms.values().stream().filter(vm -> vm.callId.equals(callId)).findFirst();
  }

  VmList list() {
    return new VmList(vms.values().stream().map(Vm::view).toList(),
        (int) vms.values().stream().filter(vm -> vm.unsaved).count());
  }

  /** Moves the VM on: checked, recorded (a final VM leaves the table instead), published. */
  void transition(Vm vm, VmState next, String reason) {
    VmState from = vm.state;
    vm.moveTo(next);
    if (next.isFinal()) {
      leave(vm);
    } else {
      persist(vm);
    }
    publish(VmEvent.state(vm.id, from.name(), next.name(), reason));
  }

  /** Queues a state.json write of the VM as it is now (see {@link StateWriter}). */
  void persist(Vm vm) {
    state.write(vm);
  }

  /** A VM that is final (or leaves) while its release goes on: tracked until it is done. */
  void releasing(Vm vm, Future<Void> release) {
    releasing.put(vm.id, release);
    release.onComplete(ar -> releasing.remove(vm.id, release));
  }

  /** Every release under way, done (failed or not). */
  Future<Void> released() {
    return Future.join(new ArrayList<>(releasing.values())).<Void>mapEmpty().otherwiseEmpty();
  }

  /** The VM leaves the table (final, or left running for the next manager); its usage series go with it. */
  void leave(Vm vm) {
    if (vms.remove(vm.id, vm)) {
      metrics.vmGone(vm.id);
    }
  }

  void publish(VmEvent event) {
    bus.publish(Addresses.EVENTS, event);
  }
}
