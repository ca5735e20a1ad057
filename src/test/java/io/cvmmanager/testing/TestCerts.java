package io.cvmmanager.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A throw-away PKI made with the openssl command line: one CA, a server certificate for localhost, a client. */
public record TestCerts(Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey,
    Path otherCaCert) {

  public static TestCerts create(Path dir) throws IOException, InterruptedException {
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem");
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=other-ca", "-keyout", "other-ca.key", "-out", "other-ca.pem");
    issue(dir, "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    issue(dir, "client", "/CN=cvms", "extendedKeyUsage=clientAuth");
    return new TestCerts(dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"),
        dir.resolve("client.pem"), dir.resolve("client.key"), dir.resolve("other-ca.pem"));
  }

  private static void issue(Path dir, String name, String subject, String extension)
      throws IOException, InterruptedException {
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
        "-keyout", name + ".key", "-out", name + ".csr");
    openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", writeExtension(dir, name, extension).toString(), "-out", name + ".pem");
  }

  private static Path writeExtension(Path dir, String name, String extension) throws IOException {
    Path file = dir.resolve(name + ".ext");
    java.nio.file.Files.writeString(file, extension + "\n");
    return file;
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed: " + output);
    }
  }
}
