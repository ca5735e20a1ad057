package io.cvmmanager.vm;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One lifecycle event, as published on {@code cvm.events}: {@code {"type", "id", "from", "to", "at", "reason"}} with
 * {@code at} in RFC 3339 UTC. {@code from}/{@code to} are states for type "state", empty otherwise.
 */
public record VmEvent(String type, String id, String from, String to, Instant at, String reason) implements BusMessage {
  public static final String STATE = "state";
  public static final String ADOPTED = "adopted";
  public static final String AGENT_READY = "agent-ready";
  public static final String AGENT_LOST = "agent-lost";
  public static final String GUEST_PANIC = "guest-panic";
  /** A running VM's state.json could not be written; the write is retried until it lands. */
  public static final String STATE_UNSAVED = "state-unsaved";
  /** A running VM's state.json was written again after {@link #STATE_UNSAVED}. */
  public static final String STATE_SAVED = "state-saved";
  /** A QMP event of QEMU's (POWERDOWN, SHUTDOWN, STOP, RESUME, ...), its name in {@code to}. */
  public static final String QMP = "qmp";

  public static VmEvent state(String id, String from, String to, String reason) {
    return new VmEvent(STATE, id, from, to, Instant.now(), reason);
  }

  public static VmEvent of(String type, String id, String reason) {
    return new VmEvent(type, id, "", "", Instant.now(), reason);
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("type", type).put("id", id).put("from", from).put("to", to)
        .put("at", at.toString()).put("reason", reason);
  }

  public static VmEvent fromJson(JsonObject json) {
    return new VmEvent(json.getString("type"), json.getString("id"), json.getString("from", ""),
        json.getString("to", ""), Instant.parse(json.getString("at")), json.getString("reason", ""));
  }
}
