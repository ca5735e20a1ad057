package io.cvmmanager.vm;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonObject;

/**
 * A lifecycle event with the node it happened on (empty on a single host): what WatchEvents streams, and in
 * clustered mode what each node publishes cluster-wide for every other node's watchers.
 */
public record NodeEvent(String node, VmEvent event) implements BusMessage {
  @Override
  public JsonObject toJson() {
    return new JsonObject().put("node", node).put("event", event.toJson());
  }

  public static NodeEvent fromJson(JsonObject json) {
    return new NodeEvent(json.getString("node", ""), VmEvent.fromJson(json.getJsonObject("event")));
  }
}
