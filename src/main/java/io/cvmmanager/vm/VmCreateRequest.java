package io.cvmmanager.vm;

import io.vertx.core.json.JsonObject;

/**
 * What a CreateVm asks for, as it travels on the event bus: upstream's CreateReq fields, by meaning, and the VM's
 * own sizes (our API's CreateVm; {@link VmSize#CONFIGURED} for upstream's).
 */
public record VmCreateRequest(
    String agentLogLevel,
    byte[] serverCaCert,
    byte[] clientKey,
    byte[] clientCert,
    String cvmServerUrl,
    String cvmCaUrl,
    String ttl,
    String certsToken,
    String awsAccessKeyId,
    String awsSecretAccessKey,
    String awsEndpointUrl,
    String awsRegion,
    String aaKbsParams,
    VmSize size) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("agentLogLevel", agentLogLevel)
        .put("serverCaCert", serverCaCert)
        .put("clientKey", clientKey)
        .put("clientCert", clientCert)
        .put("cvmServerUrl", cvmServerUrl)
        .put("cvmCaUrl", cvmCaUrl)
        .put("ttl", ttl)
        .put("certsToken", certsToken)
        .put("awsAccessKeyId", awsAccessKeyId)
        .put("awsSecretAccessKey", awsSecretAccessKey)
        .put("awsEndpointUrl", awsEndpointUrl)
        .put("awsRegion", awsRegion)
        .put("aaKbsParams", aaKbsParams)
        .put("size", size.toJson());
  }

  public static VmCreateRequest fromJson(JsonObject json) {
    return new VmCreateRequest(json.getString("agentLogLevel", ""), json.getBinary("serverCaCert", new byte[0]),
        json.getBinary("clientKey", new byte[0]), json.getBinary("clientCert", new byte[0]),
        json.getString("cvmServerUrl", ""), json.getString("cvmCaUrl", ""), json.getString("ttl", ""),
        json.getString("certsToken", ""), json.getString("awsAccessKeyId", ""),
        json.getString("awsSecretAccessKey", ""), json.getString("awsEndpointUrl", ""),
        json.getString("awsRegion", ""), json.getString("aaKbsParams", ""),
        VmSize.fromJson(json.getJsonObject("size", new JsonObject())));
  }

  /** Never prints keys, tokens or AWS secrets. */
  @Override
  public String toString() {
    return "VmCreateRequest[serverUrl=" + cvmServerUrl + ", caUrl=" + cvmCaUrl + ", ttl=" + ttl + ", certs="
        + (clientCert.length > 0) + ", aws=" + !awsAccessKeyId.isEmpty() + ", size=" + size.toJson().encode() + "]";
  }
}
