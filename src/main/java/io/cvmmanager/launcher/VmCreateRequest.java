package io.cvmmanager.launcher;

import io.vertx.core.json.JsonObject;

/** What a CreateVm asks for, as it travels on the event bus (upstream's CreateReq fields, by meaning). */
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
    String aaKbsParams) {

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
        .put("aaKbsParams", aaKbsParams);
  }

  /** Never prints keys, tokens or AWS secrets. */
  @Override
  public String toString() {
    return "VmCreateRequest[serverUrl=" + cvmServerUrl + ", caUrl=" + cvmCaUrl + ", ttl=" + ttl + ", certs="
        + (clientCert.length > 0) + ", aws=" + !awsAccessKeyId.isEmpty() + "]";
  }
}
