package io.cvmmanager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.error.ErrorKind;
import io.cvmmanager.error.ManagerException;
import io.cvmmanager.vm.VmCreateRequest;
import io.cvmmanager.vm.VmSize;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentEnvironmentTest {
  private static VmCreateRequest request(String logLevel, String url, String token, String awsSecret,
      byte[] cert) {
    return new VmCreateRequest(logLevel, cert, cert, cert, url, "https://ca.example", "", token, "AKIA", awsSecret,
        "", "eu-west-1", "", VmSize.CONFIGURED);
  }

  @Test
  void writesUpstreamsKeysSingleQuoted() {
    String text = AgentEnvironment.render("id-1", request("info", "cvms:7001", "tok", "secret", new byte[] {1}));
    assertEquals("""
        AGENT_LOG_LEVEL='info'
        AGENT_CVM_GRPC_URL='cvms:7001'
        AGENT_CVM_ID='id-1'
        AGENT_CERTS_TOKEN='tok'
        AGENT_CVM_CA_URL='https://ca.example'
        AGENT_CVM_GRPC_CLIENT_CERT='/etc/certs/cert.pem'
        AGENT_CVM_GRPC_CLIENT_KEY='/etc/certs/key.pem'
        AGENT_CVM_GRPC_SERVER_CA_CERTS='/etc/certs/ca.pem'
        AWS_ACCESS_KEY_ID='AKIA'
        AWS_SECRET_ACCESS_KEY='secret'
        AWS_REGION='eu-west-1'
        """, text);
  }

  @Test
  void withoutCertificatesNoCertificatePathsAndNoFiles() {
    VmCreateRequest noCerts = request("info", "u", "", "", new byte[0]);
    String text = AgentEnvironment.render("id-1", noCerts);
    assertTrue(!text.contains("CLIENT_CERT") && !text.contains("SERVER_CA"), text);
    assertTrue(AgentEnvironment.certificates(noCerts).isEmpty());
  }

  @Test
  void quotesNewlinesAndControlCharactersAreRefusedNamingTheField() {
    for (String bad : List.of("a'b", "a\nb", "a\rb", "a\u0000b", "a\tb", "a\u007fb")) {
      ManagerException e = assertThrows(ManagerException.class,
          () -> AgentEnvironment.render("id", request("info", bad, "", "", new byte[0])));
      assertEquals(ErrorKind.INVALID_ARGUMENT, e.kind());
      assertTrue(e.getMessage().startsWith("agent_cvm_server_url"), e.getMessage());
    }
    ManagerException secret = assertThrows(ManagerException.class,
        () -> AgentEnvironment.render("id", request("info", "u", "", "s3cr3t\n", new byte[0])));
    assertTrue(secret.getMessage().startsWith("aws_secret_access_key") && !secret.getMessage().contains("s3cr3t"));
  }

  @Test
  void shellReadsEveryValueBackUnchanged(@TempDir Path dir) throws Exception {
    String tricky = "$HOME `id` \"quoted\" \\back\\slash; rm -rf / & | < > * ? [x] ~ # é 日本";
    Files.writeString(dir.resolve("environment"),
        AgentEnvironment.render("id-1", request("info", tricky, "to$ken", "se\"cret", new byte[0])));
    assertEquals(tricky, shell(dir, "AGENT_CVM_GRPC_URL"));
    assertEquals("to$ken", shell(dir, "AGENT_CERTS_TOKEN"));
    assertEquals("se\"cret", shell(dir, "AWS_SECRET_ACCESS_KEY"));
    assertEquals("id-1", shell(dir, "AGENT_CVM_ID"));
  }

  private static String shell(Path dir, String key) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", ". ./environment; printf %s \"$" + key + "\"")
        .directory(dir.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), new String(p.getErrorStream().readAllBytes()));
    return out;
  }
}
