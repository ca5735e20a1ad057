package io.cvmmanager.vm;

import io.cvmmanager.bus.BusMessage;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The files a new VM needs, as asked of the DiskVerticle.
 *
 * @param ovmfVars whether to make the VM's private copy of OVMF_VARS (non-TEE VMs)
 * @param certs file name to content, written 0600 into {@code certs/} (handed to the guest over 9p)
 * @param environment the text of {@code env/environment}, written 0600
 * @param disk whether to make the VM's disk from the reference image (disk mode)
 */
public record VmFilesRequest(String id, boolean ovmfVars, Map<String, byte[]> certs, String environment,
    boolean disk) implements BusMessage {

  @Override
  public JsonObject toJson() {
    JsonObject files = new JsonObject();
    certs.forEach(files::put);
    return new JsonObject().put("id", id).put("ovmfVars", ovmfVars).put("certs", files)
        .put("environment", environment).put("disk", disk);
  }

  public static VmFilesRequest fromJson(JsonObject json) {
    Map<String, byte[]> certs = new LinkedHashMap<>();
    JsonObject files = json.getJsonObject("certs", new JsonObject());
    files.fieldNames().forEach(name -> certs.put(name, files.getBinary(name)));
    return new VmFilesRequest(json.getString("id"), json.getBoolean("ovmfVars", false), certs,
        json.getString("environment", ""), json.getBoolean("disk", false));
  }

  /** Never prints certificate or key bytes, nor the environment (it holds tokens and AWS secrets). */
  @Override
  public String toString() {
    return "VmFilesRequest[id=" + id + ", ovmfVars=" + ovmfVars + ", certs=" + certs.keySet() + ", disk=" + disk + "]";
  }
}
