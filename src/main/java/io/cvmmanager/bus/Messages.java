package io.cvmmanager.bus;

import io.cvmmanager.vm.CreateOrigin;
import io.cvmmanager.vm.VmCreateRequest;
import io.cvmmanager.vm.VmEvent;
import io.cvmmanager.vm.VmView;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The small messages of the event bus, each with its JSON form. The larger ones are domain records of their own
 * ({@code vm.VmCreateRequest}, {@code vm.VmFilesRequest}, {@code vm.VmView}, {@code vm.VmEvent},
 * {@code vm.VmLogLine}). Which address carries which is in {@link Addresses}.
 */
public final class Messages {
  private Messages() {}

  /** No content: the request of a query without parameters, the reply that only says "done". */
  public record Nothing() implements BusMessage {
    public static final Nothing INSTANCE = new Nothing();

    @Override
    public JsonObject toJson() {
      return new JsonObject();
    }

    public static Nothing fromJson(JsonObject json) {
      return INSTANCE;
    }
  }

  /** One VM, by id: {@code {"id"}}. */
  public record VmId(String id) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id);
    }

    public static VmId fromJson(JsonObject json) {
      return new VmId(json.getString("id", ""));
    }
  }

  /**
   * A CreateVm: the request, and the API's name for the call ({@code callId}), by which the call is abandoned
   * before its id is known: the request's JSON plus {@code "callId"}.
   */
  public record CreateVm(VmCreateRequest request, String callId, Optional<CreateOrigin> origin)
      implements BusMessage {
    /** A create taken by this node's own API. */
    public CreateVm(VmCreateRequest request, String callId) {
      this(request, callId, Optional.empty());
    }

    @Override
    public JsonObject toJson() {
      JsonObject json = request.toJson().put("callId", callId);
      origin.ifPresent(o -> json.put("origin", o.toJson()));
      return json;
    }

    public static CreateVm fromJson(JsonObject json) {
      return new CreateVm(VmCreateRequest.fromJson(json), json.getString("callId", ""),
          Optional.ofNullable(json.getJsonObject("origin")).map(CreateOrigin::fromJson));
    }
  }

  /** Disk space a new VM's disk will take: {@code {"bytes"}}. */
  public record DiskNeed(long bytes) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("bytes", bytes);
    }

    public static DiskNeed fromJson(JsonObject json) {
      return new DiskNeed(json.getLong("bytes", 0L));
    }
  }

  /** A VM made: {@code {"id", "port"}}. */
  public record VmCreated(String id, int port) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("port", port);
    }

    public static VmCreated fromJson(JsonObject json) {
      return new VmCreated(json.getString("id"), json.getInteger("port"));
    }
  }

  /** A CreateVm whose reply did not reach its client: {@code {"callId"}}. */
  public record AbandonCreate(String callId) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("callId", callId);
    }

    public static AbandonCreate fromJson(JsonObject json) {
      return new AbandonCreate(json.getString("callId", ""));
    }
  }

  /**
   * Every VM of the table, with how many of them have a state.json older than the VM (a write failed and is being
   * retried): {@code {"vms": [VmView JSON, ...], "unsaved"}}.
   */
  public record VmList(List<VmView> vms, int unsaved) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("vms", new JsonArray(vms.stream().map(VmView::toJson).toList()))
          .put("unsaved", unsaved);
    }

    public static VmList fromJson(JsonObject json) {
      return new VmList(json.getJsonArray("vms").stream().map(v -> VmView.fromJson((JsonObject) v)).toList(),
          json.getInteger("unsaved", 0));
    }
  }

  /** A read-only QMP query of a VM ({@code query-*} only): {@code {"id", "command"}}. */
  public record QmpQuery(String id, String command) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("command", command);
    }

    public static QmpQuery fromJson(JsonObject json) {
      return new QmpQuery(json.getString("id", ""), json.getString("command", ""));
    }
  }

  /** What QEMU returned (an object, an array or a scalar): {@code {"return"}}. */
  public record QmpResult(Object value) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("return", value);
    }

    public static QmpResult fromJson(JsonObject json) {
      return new QmpResult(json.getValue("return"));
    }
  }

  /** What the monitor saw of a VM: {@code {"id", "type": "agent-ready"|"agent-lost", "reason"}}. */
  public record VmObserved(String id, String type, String reason) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("type", type).put("reason", reason);
    }

    public static VmObserved fromJson(JsonObject json) {
      return new VmObserved(json.getString("id"), json.getString("type"), json.getString("reason", ""));
    }
  }

  /**
   * Watch a running VM (console log, agent port, usage): {@code {"id", "port", "consoleLog", "fromEnd", "pid",
   * "pidFile"}}; {@code fromEnd} (an adopted VM): follow the console from its current end, its earlier lines having
   * been published before; {@code pid}: the process the launcher holds (sudo, under sudo); {@code pidFile}: QEMU's.
   */
  public record WatchVm(String id, int port, String consoleLog, boolean fromEnd, long pid, String pidFile)
      implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("port", port).put("consoleLog", consoleLog).put("fromEnd", fromEnd)
          .put("pid", pid).put("pidFile", pidFile);
    }

    public static WatchVm fromJson(JsonObject json) {
      return new WatchVm(json.getString("id"), json.getInteger("port"), json.getString("consoleLog"),
          json.getBoolean("fromEnd", false), json.getLong("pid", 0L), json.getString("pidFile", ""));
    }
  }

  /** Lifecycle events, oldest first: {@code {"events": [VmEvent JSON, ...]}}. */
  public record EventList(List<VmEvent> events) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("events", new JsonArray(events.stream().map(VmEvent::toJson).toList()));
    }

    public static EventList fromJson(JsonObject json) {
      return new EventList(json.getJsonArray("events").stream().map(e -> VmEvent.fromJson((JsonObject) e))
          .toList());
    }
  }

  /** A host port for a VM: any free one ({@code port} 0), or the given one (adoption): {@code {"id", "port"}}. */
  public record ReservePort(String id, int port) implements BusMessage {
    public static ReservePort any(String id) {
      return new ReservePort(id, 0);
    }

    @Override
    public JsonObject toJson() {
      JsonObject json = new JsonObject().put("id", id);
      return port > 0 ? json.put("port", port) : json;
    }

    public static ReservePort fromJson(JsonObject json) {
      return new ReservePort(json.getString("id", ""), json.getInteger("port", 0));
    }
  }

  /** A host port (reserved, or to release): {@code {"port"}}. */
  public record Port(int port) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("port", port);
    }

    public static Port fromJson(JsonObject json) {
      return new Port(json.getInteger("port", 0));
    }
  }

  /** Relay the agent port of VM {@code id}, forwarded at {@code host:port} on its owner node: {@code {"id", "host", "port"}}. */
  public record RelayOpen(String id, String host, int port) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("host", host).put("port", port);
    }

    public static RelayOpen fromJson(JsonObject json) {
      return new RelayOpen(json.getString("id"), json.getString("host"), json.getInteger("port", 0));
    }
  }

  /**
   * Follow VM {@code id}'s console from another node: its last {@code tail} lines in the reply, then (with
   * {@code follow}) each new line sent to {@code address} until {@link LogUnfollow}, the VM's end (a line of
   * stream {@link io.cvmmanager.vm.VmLogLine#END}) or the entry node's departure.
   */
  public record LogFollow(String id, int tail, boolean follow, String address, String entryNode)
      implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("tail", tail).put("follow", follow).put("address", address)
          .put("entryNode", entryNode);
    }

    public static LogFollow fromJson(JsonObject json) {
      return new LogFollow(json.getString("id"), json.getInteger("tail", 0), json.getBoolean("follow", false),
          json.getString("address", ""), json.getString("entryNode", ""));
    }
  }

  /** A console's last lines: {@code {"lines": [...]}}. */
  public record LogTail(List<String> lines) implements BusMessage {
    public LogTail {
      lines = List.copyOf(lines);
    }

    @Override
    public JsonObject toJson() {
      return new JsonObject().put("lines", new JsonArray(lines));
    }

    public static LogTail fromJson(JsonObject json) {
      return new LogTail(json.getJsonArray("lines", new JsonArray()).stream().map(String.class::cast).toList());
    }
  }

  /** Stop sending a followed console's lines to {@code address}: {@code {"address"}}. */
  public record LogUnfollow(String address) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("address", address);
    }

    public static LogUnfollow fromJson(JsonObject json) {
      return new LogUnfollow(json.getString("address", ""));
    }
  }

  /** Drain a node ({@code drain}) or take it back into placement: {@code {"drain"}}. */
  public record Drain(boolean drain) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("drain", drain);
    }

    public static Drain fromJson(JsonObject json) {
      return new Drain(json.getBoolean("drain", true));
    }
  }

  /** This node's open agent relays: VM id → the port here: {@code {"relays": {id: port}}}. */
  public record Relays(Map<String, Integer> ports) implements BusMessage {
    public Relays {
      ports = Map.copyOf(ports);
    }

    @Override
    public JsonObject toJson() {
      JsonObject json = new JsonObject();
      ports.forEach(json::put);
      return new JsonObject().put("relays", json);
    }

    public static Relays fromJson(JsonObject json) {
      Map<String, Integer> ports = new java.util.HashMap<>();
      json.getJsonObject("relays", new JsonObject()).forEach(e -> ports.put(e.getKey(), ((Number) e.getValue())
          .intValue()));
      return new Relays(ports);
    }
  }

  /** A VM's attestation policy: {@code {"id", "policy"}} (policy: base64 of the CoRIM bytes in JSON). */
  public record Policy(String id, byte[] policy) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("policy", policy);
    }

    public static Policy fromJson(JsonObject json) {
      return new Policy(json.getString("id"), json.getBinary("policy"));
    }
  }

  /** The SEV-SNP launch measurement of an IGVM file is asked: {@code {"igvmFile"}}. */
  public record MeasureIgvm(String igvmFile) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("igvmFile", igvmFile);
    }

    public static MeasureIgvm fromJson(JsonObject json) {
      return new MeasureIgvm(json.getString("igvmFile"));
    }
  }

  /** A launch measurement, 96 hex characters: {@code {"measurement"}}. */
  public record Measurement(String hex) implements BusMessage {
    @Override
    public JsonObject toJson() {
      return new JsonObject().put("measurement", hex);
    }

    public static Measurement fromJson(JsonObject json) {
      return new Measurement(json.getString("measurement"));
    }
  }
}
