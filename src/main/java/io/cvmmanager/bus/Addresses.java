package io.cvmmanager.bus;

import io.cvmmanager.bus.Messages.AbandonCreate;
import io.cvmmanager.bus.Messages.CreateVm;
import io.cvmmanager.bus.Messages.DiskNeed;
import io.cvmmanager.bus.Messages.Drain;
import io.cvmmanager.bus.Messages.EventList;
import io.cvmmanager.bus.Messages.LogFollow;
import io.cvmmanager.bus.Messages.LogTail;
import io.cvmmanager.bus.Messages.LogUnfollow;
import io.cvmmanager.bus.Messages.MeasureIgvm;
import io.cvmmanager.bus.Messages.Measurement;
import io.cvmmanager.bus.Messages.Nothing;
import io.cvmmanager.bus.Messages.Policy;
import io.cvmmanager.bus.Messages.Port;
import io.cvmmanager.bus.Messages.QmpQuery;
import io.cvmmanager.bus.Messages.QmpResult;
import io.cvmmanager.bus.Messages.RelayOpen;
import io.cvmmanager.bus.Messages.Relays;
import io.cvmmanager.bus.Messages.ReservePort;
import io.cvmmanager.bus.Messages.VmCreated;
import io.cvmmanager.bus.Messages.VmId;
import io.cvmmanager.bus.Messages.VmList;
import io.cvmmanager.bus.Messages.VmObserved;
import io.cvmmanager.bus.Messages.WatchVm;
import io.cvmmanager.cluster.NodeList;
import io.cvmmanager.resources.HostInventory;
import io.cvmmanager.resources.HostView;
import io.cvmmanager.vm.NodeEvent;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmFilesRequest;
import io.cvmmanager.vm.VmLogLine;
import io.cvmmanager.vm.VmUsage;
import io.cvmmanager.vm.VmView;
import java.util.List;

/**
 * Every event-bus address, with the one message type it carries and, for a request, its reply's. Use them through
 * {@link Bus}, which passes the records and maps errors both ways.
 */
public final class Addresses {
  /** CreateVm; the reply comes once the VM's RUNNING record is on disk. Owner: the launcher. */
  public static final Address<CreateVm, VmCreated> VM_CREATE = Address.request("cvm.launcher.create",
      CreateVm.class, CreateVm::fromJson, VmCreated.class, VmCreated::fromJson);
  /**
   * A CreateVm whose reply did not reach its client (cancelled, deadline passed, connection lost, bus timeout): the
   * reply comes once the create is cut short and undone, or the VM it made is removed (at once when no create has
   * that call id).
   */
  public static final Address<AbandonCreate, Nothing> VM_CREATE_ABANDON = Address.request(
      "cvm.launcher.create-abandon", AbandonCreate.class, AbandonCreate::fromJson, Nothing.class,
      Nothing::fromJson);
  /** RemoveVm; the reply comes once QEMU is gone and everything it had is released. */
  public static final Address<VmId, Nothing> VM_REMOVE = Address.request("cvm.launcher.remove", VmId.class,
      VmId::fromJson, Nothing.class, Nothing::fromJson);
  /** Every VM of the table, STOPPING ones included. */
  public static final Address<Nothing, VmList> VM_LIST = Address.request("cvm.launcher.list", Nothing.class,
      Nothing::fromJson, VmList.class, VmList::fromJson);
  /** One VM, STOPPING ones included. */
  public static final Address<VmId, VmView> VM_GET = Address.request("cvm.launcher.get", VmId.class,
      VmId::fromJson, VmView.class, VmView::fromJson);
  /**
   * A read-only QMP query of a running VM, for operators and tests, since QEMU serves one QMP client and that is
   * the launcher.
   */
  public static final Address<QmpQuery, QmpResult> VM_QMP_QUERY = Address.request("cvm.launcher.qmp-query",
      QmpQuery.class, QmpQuery::fromJson, QmpResult.class, QmpResult::fromJson);
  /** What the monitor saw of a VM, for the launcher (sent). */
  public static final Address<VmObserved, Nothing> VM_OBSERVED = Address.told("cvm.launcher.observed",
      VmObserved.class, VmObserved::fromJson);
  /** A VM's usage as the monitor read it from /proc, for the launcher (sent), every MANAGER_USAGE_INTERVAL. */
  public static final Address<VmUsage, Nothing> VM_USAGE = Address.told("cvm.launcher.usage", VmUsage.class,
      VmUsage::fromJson);
  /** Start watching a running VM (sent). Owner: the monitor. */
  public static final Address<WatchVm, Nothing> MONITOR_WATCH = Address.told("cvm.monitor.watch", WatchVm.class,
      WatchVm::fromJson);
  /** Stop watching a VM (sent). */
  public static final Address<VmId, Nothing> MONITOR_UNWATCH = Address.told("cvm.monitor.unwatch", VmId.class,
      VmId::fromJson);
  /** Lifecycle events (published): the launcher's transitions, adoption, agent readiness, QMP events. */
  public static final Address<VmEvent, Nothing> EVENTS = Address.told("cvm.events", VmEvent.class,
      VmEvent::fromJson);
  /** A VM's console and QEMU stderr lines (published), one address per VM: {@code VM_LOGS.at(id)}. */
  public static final Address<VmLogLine, Nothing> VM_LOGS = Address.told("cvm.logs", VmLogLine.class,
      VmLogLine::fromJson);
  /** The lifecycle events kept of this run, oldest first. Owner: the event history. */
  public static final Address<Nothing, EventList> EVENT_HISTORY = Address.request("cvm.events.history",
      Nothing.class, Nothing::fromJson, EventList.class, EventList::fromJson);
  /** Reserve a host port (any, or a given one). Owner: the port pool. */
  public static final Address<ReservePort, Port> PORT_RESERVE = Address.request("cvm.ports.reserve",
      ReservePort.class, ReservePort::fromJson, Port.class, Port::fromJson);
  /** Release a host port. */
  public static final Address<Port, Nothing> PORT_RELEASE = Address.request("cvm.ports.release", Port.class,
      Port::fromJson, Nothing.class, Nothing::fromJson);
  /** Make a VM's files (directory, OVMF_VARS copy, certs, env, disk). Owner: the disk verticle. */
  public static final Address<VmFilesRequest, Nothing> FILES_PREPARE = Address.request("cvm.disk.prepare",
      VmFilesRequest.class, VmFilesRequest::fromJson, Nothing.class, Nothing::fromJson);
  /** Delete a VM's directory and everything in it. */
  public static final Address<VmId, Nothing> FILES_RELEASE = Address.request("cvm.disk.release", VmId.class,
      VmId::fromJson, Nothing.class, Nothing::fromJson);
  /**
   * The disk space a new VM's disk takes in disk mode: a copy, its size (the reference image's virtual size, as
   * upstream sizes it); an overlay, 0 (it grows as the guest writes).
   */
  public static final Address<Nothing, DiskNeed> FILES_DISK_NEED = Address.request("cvm.disk.need", Nothing.class,
      Nothing::fromJson, DiskNeed.class, DiskNeed::fromJson);
  /** A VM's attestation policy (CoRIM). Owner: the attestation verticle. */
  public static final Address<VmId, Policy> ATTESTATION_POLICY = Address.request("cvm.attestation.policy",
      VmId.class, VmId::fromJson, Policy.class, Policy::fromJson);
  /**
   * The SEV-SNP launch measurement of an IGVM file, taken at CreateVm so the VM's policy states the file it was
   * launched with.
   */
  public static final Address<MeasureIgvm, Measurement> ATTESTATION_MEASURE = Address.request(
      "cvm.attestation.measure", MeasureIgvm.class, MeasureIgvm::fromJson, Measurement.class,
      Measurement::fromJson);

  /** A fresh reading of the host's inventory (published at each reading). Owner: the inventory verticle. */
  public static final Address<HostInventory, Nothing> HOST_INVENTORY = Address.told("cvm.resources.inventory",
      HostInventory.class, HostInventory::fromJson);
  /** The last reading of the host's inventory. */
  public static final Address<Nothing, HostInventory> HOST_INVENTORY_GET = Address.request(
      "cvm.resources.inventory.get", Nothing.class, Nothing::fromJson, HostInventory.class, HostInventory::fromJson);
  /**
   * The host as admission sees it: capacity, allocated and free per resource, and who holds each GPU (the launcher
   * keeps the accounts).
   */
  public static final Address<Nothing, HostView> HOST_GET = Address.request("cvm.launcher.host", Nothing.class,
      Nothing::fromJson, HostView.class, HostView::fromJson);

  /**
   * Clustered mode: open a relay from a port of this node's HOST_FWD_RANGE to a VM's agent port on its owner node;
   * the reply is the port here. Owner: the agent relays.
   */
  public static final Address<RelayOpen, Port> RELAY_OPEN = Address.request("cvm.cluster.relay-open",
      RelayOpen.class, RelayOpen::fromJson, Port.class, Port::fromJson);
  /** Close a VM's relay, if it has one here, and give its port back. */
  public static final Address<VmId, Nothing> RELAY_CLOSE = Address.request("cvm.cluster.relay-close", VmId.class,
      VmId::fromJson, Nothing.class, Nothing::fromJson);
  /** This node's open relays. */
  public static final Address<Nothing, Relays> RELAY_LIST = Address.request("cvm.cluster.relays", Nothing.class,
      Nothing::fromJson, Relays.class, Relays::fromJson);
  /**
   * Clustered mode: answered by each node once it serves (after its adoption and settling), at
   * {@code NODE_PING.at("node.<name>")}, over the event bus's mutual TLS: what tells the others it is trusted.
   */
  public static final Address<Nothing, Nothing> NODE_PING = Address.request("cvm.cluster.ping", Nothing.class,
      Nothing::fromJson, Nothing.class, Nothing::fromJson);

  /** Clustered mode: the nodes as this one sees them (records, membership, trust, flags). Owner: the cluster verticle. */
  public static final Address<Nothing, NodeList> CLUSTER_NODES = Address.request("cvm.cluster.nodes", Nothing.class,
      Nothing::fromJson, NodeList.class, NodeList::fromJson);

  /**
   * Clustered mode: follow a console of this node from another (StreamLogs there), served at
   * {@code LOG_FOLLOW.onNode(<owner>)}. Owner: the cluster verticle.
   */
  public static final Address<LogFollow, LogTail> LOG_FOLLOW = Address.request("cvm.cluster.logs.follow",
      LogFollow.class, LogFollow::fromJson, LogTail.class, LogTail::fromJson);
  /** Stop following, at {@code LOG_UNFOLLOW.onNode(<owner>)}. */
  public static final Address<LogUnfollow, Nothing> LOG_UNFOLLOW = Address.request("cvm.cluster.logs.unfollow",
      LogUnfollow.class, LogUnfollow::fromJson, Nothing.class, Nothing::fromJson);
  /** A followed console's lines, sent cluster-wide to the follower's {@code CLUSTER_LOG_LINES.at(<stream id>)}. */
  public static final Address<VmLogLine, Nothing> CLUSTER_LOG_LINES = Address.told("cvm.cluster.logs",
      VmLogLine.class, VmLogLine::fromJson);

  /**
   * Clustered mode: every node's lifecycle events with their node (published cluster-wide by each node's cluster
   * verticle), for WatchEvents on any node.
   */
  public static final Address<NodeEvent, Nothing> CLUSTER_EVENTS = Address.told("cvm.cluster.events",
      NodeEvent.class, NodeEvent::fromJson);

  /**
   * Clustered mode: drain this node, or undrain it (persisted in the state dir), served locally and at
   * {@code NODE_DRAIN.onNode(<name>)}; the reply comes once its record says so. Owner: the cluster verticle.
   */
  public static final Address<Drain, Nothing> NODE_DRAIN = Address.request("cvm.cluster.drain", Drain.class,
      Drain::fromJson, Nothing.class, Nothing::fromJson);

  /** All of them, for codec registration and the README's table. */
  public static final List<Address<?, ?>> ALL = List.of(VM_CREATE, VM_CREATE_ABANDON, VM_REMOVE, VM_LIST, VM_GET,
      VM_QMP_QUERY, VM_OBSERVED, VM_USAGE, MONITOR_WATCH, MONITOR_UNWATCH, EVENTS, VM_LOGS, EVENT_HISTORY, PORT_RESERVE,
      PORT_RELEASE, FILES_PREPARE, FILES_RELEASE, FILES_DISK_NEED,
      ATTESTATION_POLICY, ATTESTATION_MEASURE, HOST_INVENTORY,
      HOST_INVENTORY_GET, HOST_GET, RELAY_OPEN, RELAY_CLOSE, RELAY_LIST, NODE_PING, CLUSTER_NODES,
      LOG_FOLLOW, LOG_UNFOLLOW, CLUSTER_LOG_LINES, CLUSTER_EVENTS,
      NODE_DRAIN);

  private Addresses() {}
}
