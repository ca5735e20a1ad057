package io.cvmmanager.testing;

import io.vertx.core.net.KeyCertOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A throw-away PKI made with the openssl command line: one CA, a server certificate for localhost, a client; and for
 * refusals another CA, a client certificate it signed, and a client certificate of the first CA that has expired.
 */
public record TestCerts(Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey,
    Path otherCaCert, Path foreignClientCert, Path foreignClientKey, Path expiredClientCert, Path expiredClientKey) {

  public static TestCerts create(Path dir) throws IOException, InterruptedException {
    selfSigned(dir, "ca", "/CN=test-ca");
    selfSigned(dir, "other-ca", "/CN=other-ca");
    issue(dir, "ca", "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", 2);
    issue(dir, "ca", "client", "/CN=cvms", "extendedKeyUsage=clientAuth", 2);
    issue(dir, "other-ca", "foreign-client", "/CN=cvms", "extendedKeyUsage=clientAuth", 2);
    // A negative validity: openssl 3.0 sets notAfter a day before notBefore (now), so it expired yesterday.
    issue(dir, "ca", "expired-client", "/CN=cvms", "extendedKeyUsage=clientAuth", -1);
    return new TestCerts(dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"),
        dir.resolve("client.pem"), dir.resolve("client.key"), dir.resolve("other-ca.pem"),
        dir.resolve("foreign-client.pem"), dir.resolve("foreign-client.key"), dir.resolve("expired-client.pem"),
        dir.resolve("expired-client.key"));
  }

  /**
   * What a client presents, by name, in this order: nothing; {@code valid}, this CA's client certificate;
   * {@code expired}, this CA's expired one; {@code foreign CA}, another CA's. Each certificate is presented whatever
   * CAs the server says it accepts: a JDK client would send none whose issuer is not on that list, which would make
   * the foreign certificate the same test as none.
   */
  public Map<String, Optional<KeyCertOptions>> clientIdentities() throws IOException, GeneralSecurityException {
    Map<String, Optional<KeyCertOptions>> identities = new LinkedHashMap<>();
    identities.put("no certificate", Optional.empty());
    identities.put("valid", Optional.of(presenting(clientCert, clientKey)));
    identities.put("expired", Optional.of(presenting(expiredClientCert, expiredClientKey)));
    identities.put("foreign CA", Optional.of(presenting(foreignClientCert, foreignClientKey)));
    return identities;
  }

  private static KeyCertOptions presenting(Path cert, Path key) throws IOException, GeneralSecurityException {
    X509Certificate certificate;
    try (InputStream in = Files.newInputStream(cert)) {
      certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    // openssl 3 writes the key as PKCS#8 ("PRIVATE KEY").
    String base64 = Files.readString(key).replaceAll("-----[A-Z ]+-----|\\s", "");
    PrivateKey privateKey = KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    return KeyCertOptions.wrap(new PresentingKeyManager(certificate, privateKey));
  }

  /**
   * A client's key manager with one certificate, which it offers to every server that takes its key type. Extended:
   * an SSLEngine (Netty's) asks {@code chooseEngineClientAlias}, which a plain X509KeyManager cannot answer.
   */
  private static final class PresentingKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "client";
    private final X509Certificate certificate;
    private final PrivateKey key;

    PresentingKeyManager(X509Certificate certificate, PrivateKey key) {
      this.certificate = certificate;
      this.key = key;
    }

    /** Any issuers; but only for its own key type, else the JDK would sign with this key for another scheme. */
    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return List.of(keyType).contains(key.getAlgorithm()) ? ALIAS : null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return chooseEngineClientAlias(keyType, issuers, null);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return new X509Certificate[] {certificate};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key;
    }
  }

  private static void selfSigned(Path dir, String name, String subject) throws IOException, InterruptedException {
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", subject, "-keyout", name + ".key", "-out", name + ".pem");
  }

  private static void issue(Path dir, String ca, String name, String subject, String extension, int days)
      throws IOException, InterruptedException {
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
        "-keyout", name + ".key", "-out", name + ".csr");
    openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
        "-days", String.valueOf(days), "-extfile", writeExtension(dir, name, extension).toString(),
        "-out", name + ".pem");
  }

  private static Path writeExtension(Path dir, String name, String extension) throws IOException {
    Path file = dir.resolve(name + ".ext");
    Files.writeString(file, extension + "\n");
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
