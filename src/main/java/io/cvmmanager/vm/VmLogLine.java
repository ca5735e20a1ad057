package io.cvmmanager.vm;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One line a VM printed, as published on {@code cvm.logs.<id>}: {@code {"id", "stream", "line", "at"}}, stream
 * "console" (the guest's serial console) or "stderr" (QEMU's own messages).
 */
public record VmLogLine(String id, String stream, String line, Instant at) implements BusMessage {
  public static final String CONSOLE = "console";
  public static final String STDERR = "stderr";
  /** The manager's own last line of a followed console: why it ended (the VM ended, or its owner was lost). */
  public static final String MANAGER = "manager";
  /** Clustered mode: the last message of a followed console, its line saying why it ended (the VM ended). */
  public static final String END = "end";

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("stream", stream).put("line", line).put("at", at.toString());
  }

  public static VmLogLine fromJson(JsonObject json) {
    return new VmLogLine(json.getString("id"), json.getString("stream"), json.getString("line"),
        Instant.parse(json.getString("at")));
  }
}
