package io.cvmmanager.cluster;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The nodes of the cluster as this node sees them: {@code /health}'s {@code cluster} block.
 *
 * @param node this node's name
 * @param nodes every node with a record, or a member without one, by name
 */
public record NodeList(String node, List<Node> nodes) implements BusMessage {
  public NodeList {
    nodes = List.copyOf(nodes);
  }

  /**
   * One node: its record (absent for a member that has not written one yet, or one that left), whether it is a
   * member now, whether it answered this node over the event bus, what any node flagged about it, and how many VMs
   * the cluster view has of it.
   */
  public record Node(String name, boolean member, boolean trusted, List<String> flags, JsonObject record,
      int vmsInView) {
    JsonObject toJson() {
      return new JsonObject().put("name", name).put("member", member).put("trusted", trusted)
          .put("flags", new JsonArray(flags)).put("record", record).put("vmsInView", vmsInView);
    }

    static Node fromJson(JsonObject json) {
      return new Node(json.getString("name"), json.getBoolean("member", false), json.getBoolean("trusted", false),
          json.getJsonArray("flags", new JsonArray()).stream().map(String.class::cast).toList(),
          json.getJsonObject("record", new JsonObject()), json.getInteger("vmsInView", 0));
    }

    /** ready, draining, lost (not a member now) or untrusted (a member whose event bus did not answer). */
    public String state() {
      if (!member) {
        return "lost";
      }
      if (!trusted) {
        return "untrusted";
      }
      return record.getString("state", NodeRecord.READY);
    }
  }

  @Override
  public JsonObject toJson() {
    return new JsonObject().put("node", node)
        .put("nodes", new JsonArray(nodes.stream().map(Node::toJson).toList()));
  }

  public static NodeList fromJson(JsonObject json) {
    return new NodeList(json.getString("node", ""), json.getJsonArray("nodes", new JsonArray()).stream()
        .map(JsonObject.class::cast).map(Node::fromJson).toList());
  }
}
