package io.cvmmanager.launcher;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.VmCreateRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The guest agent's {@code environment} file (handed over 9p as /etc/cocos/environment) and the certificate files
 * (/etc/certs), from a CreateVm request, as upstream writes them. Better than upstream: every value is
 * single-quoted ({@code KEY='value'}), which POSIX sh and systemd's EnvironmentFile both read back unchanged, and a
 * value that could break out of its quotes or its line (a quote, newline, CR, NUL or any other control character)
 * is refused, naming the request field.
 */
public final class AgentEnvironment {
  public static final String CERT_FILE = "cert.pem";
  public static final String KEY_FILE = "key.pem";
  public static final String CA_FILE = "ca.pem";
  private static final String GUEST_CERTS_DIR = "/etc/certs/";

  private AgentEnvironment() {}

  /** The file's text; throws INVALID_ARGUMENT naming the first field whose value cannot be written safely. */
  public static String render(String vmId, VmCreateRequest request) {
    Map<String, String[]> entries = new LinkedHashMap<>();
    entries.put("AGENT_LOG_LEVEL", new String[] {request.agentLogLevel(), "agent_log_level"});
    entries.put("AGENT_CVM_GRPC_URL", new String[] {request.cvmServerUrl(), "agent_cvm_server_url"});
    entries.put("AGENT_CVM_ID", new String[] {vmId, "cvm_id"});
    entries.put("AGENT_CERTS_TOKEN", new String[] {request.certsToken(), "agent_certs_token"});
    entries.put("AGENT_CVM_CA_URL", new String[] {request.cvmCaUrl(), "agent_cvm_ca_url"});
    if (request.clientCert().length > 0) {
      entries.put("AGENT_CVM_GRPC_CLIENT_CERT", new String[] {GUEST_CERTS_DIR + CERT_FILE, "agent_cvm_client_cert"});
    }
    if (request.clientKey().length > 0) {
      entries.put("AGENT_CVM_GRPC_CLIENT_KEY", new String[] {GUEST_CERTS_DIR + KEY_FILE, "agent_cvm_client_key"});
    }
    if (request.serverCaCert().length > 0) {
      entries.put("AGENT_CVM_GRPC_SERVER_CA_CERTS",
          new String[] {GUEST_CERTS_DIR + CA_FILE, "agent_cvm_server_ca_cert"});
    }
    optional(entries, "AWS_ACCESS_KEY_ID", request.awsAccessKeyId(), "aws_access_key_id");
    optional(entries, "AWS_SECRET_ACCESS_KEY", request.awsSecretAccessKey(), "aws_secret_access_key");
    optional(entries, "AWS_ENDPOINT_URL", request.awsEndpointUrl(), "aws_endpoint_url");
    optional(entries, "AWS_REGION", request.awsRegion(), "aws_region");

    StringBuilder text = new StringBuilder();
    entries.forEach((key, valueAndField) -> {
      requireQuotable(valueAndField[0], valueAndField[1]);
      text.append(key).append("='").append(valueAndField[0]).append("'\n");
    });
    return text.toString();
  }

  /** The certificate files for the guest: only those given in the request. */
  public static Map<String, byte[]> certificates(VmCreateRequest request) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    if (request.clientCert().length > 0) {
      files.put(CERT_FILE, request.clientCert());
    }
    if (request.clientKey().length > 0) {
      files.put(KEY_FILE, request.clientKey());
    }
    if (request.serverCaCert().length > 0) {
      files.put(CA_FILE, request.serverCaCert());
    }
    return files;
  }

  /** The same check for a value that goes on the kernel command line (aa_kbs_params): no quote, no control. */
  public static void requireQuotable(String value, String field) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\'' || c < 0x20 || c == 0x7f) {
        String what = c == '\'' ? "a single quote" : c == '\n' ? "a newline" : c == '\r' ? "a carriage return"
            : c == 0 ? "a NUL byte" : String.format("the control character U+%04X", (int) c);
        throw new ManagerException(ErrorKind.INVALID_ARGUMENT, field + " contains " + what + ", which is not allowed");
      }
    }
  }

  private static void optional(Map<String, String[]> entries, String key, String value, String field) {
    if (!value.isEmpty()) {
      entries.put(key, new String[] {value, field});
    }
  }
}
