package io.cvmmanager.cluster;

import io.cvmmanager.resources.HostView;
import io.cvmmanager.vm.Tee;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * One node as the others see it in the {@code cvm.nodes} map: where to reach it, what TEE it runs, its resources
 * (the resources issue's capacity, allocated and free per resource) and VM count, and whether it takes new VMs. No
 * secrets. Each node writes its own, on every change and every {@link ClusterVerticle#REFRESH}.
 *
 * @param grpc the address clients reach its gRPC API at ({@code host:port})
 * @param http its HTTP endpoint ({@code /health}, {@code /metrics})
 * @param host MANAGER_CLUSTER_HOST: where its agent ports (and relays) are reached from other nodes
 * @param state {@code ready}, or {@code draining} once it stops taking VMs (SIGTERM)
 */
public record NodeRecord(String name, String grpc, String http, String host, Tee tee, HostView resources,
    int vmCount, int maxVms, String state, Instant updated) {
  public static final String READY = "ready";
  public static final String DRAINING = "draining";

  /** What a new VM may still take of {@code resource}; empty when this node does not limit it. */
  public OptionalLong free(String resource) {
    return resources.resource(resource).map(HostView.Resource::free).orElse(OptionalLong.empty());
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("grpc", grpc).put("http", http).put("host", host)
        .put("tee", tee.name()).put("resources", resources.toJson()).put("vmCount", vmCount).put("maxVms", maxVms)
        .put("state", state).put("updated", updated.toString());
  }

  public static NodeRecord fromJson(JsonObject json) {
    return new NodeRecord(json.getString("name"), json.getString("grpc", ""), json.getString("http", ""),
        json.getString("host", ""), Tee.valueOf(json.getString("tee", "NONE")),
        HostView.fromJson(json.getJsonObject("resources", new JsonObject())), json.getInteger("vmCount", 0),
        json.getInteger("maxVms", 0), json.getString("state", DRAINING),
        Instant.parse(json.getString("updated", Instant.EPOCH.toString())));
  }
}
