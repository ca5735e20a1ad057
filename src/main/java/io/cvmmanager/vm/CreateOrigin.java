package io.cvmmanager.vm;

import io.vertx.core.json.JsonObject;

/**
 * Where a VM's CreateVm came from when another node of the cluster placed it here: that entry node and its name
 * for the call. Recorded with the VM, so that after a crash of either node the owner can settle, from the entry
 * node's recorded outcome, whether the client got the VM's id (keep it) or not (remove it).
 */
public record CreateOrigin(String entryNode, String callId) {
  public JsonObject toJson() {
    return new JsonObject().put("entryNode", entryNode).put("callId", callId);
  }

  public static CreateOrigin fromJson(JsonObject json) {
    return new CreateOrigin(json.getString("entryNode", ""), json.getString("callId", ""));
  }
}
