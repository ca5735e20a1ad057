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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A throw-away PKI made with the openssl command line, in {@code dir}: one CA, a server certificate for localhost, a
 * client; and for refusals another CA and a client certificate it signed, and client certificates of the first CA
 * that have expired, are not valid yet, or may serve only TLS servers (extended key usage serverAuth alone).
 */
public record TestCerts(Path dir) {
  private static final Duration DAY = Duration.ofDays(1);
  private static final String CLIENT_AUTH = "extendedKeyUsage=clientAuth";

  public static TestCerts create(Path dir) throws IOException, InterruptedException {
    selfSigned(dir, "ca", "/CN=test-ca");
    selfSigned(dir, "other-ca", "/CN=other-ca");
    Instant now = Instant.now();
    Instant yesterday = now.minus(DAY);
    Instant inTwoDays = now.plus(DAY.multipliedBy(2));
    issue(dir, "ca", "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1", yesterday, inTwoDays);
    issue(dir, "ca", "client", "/CN=cvms", CLIENT_AUTH, yesterday, inTwoDays);
    issue(dir, "other-ca", "foreign-client", "/CN=cvms", CLIENT_AUTH, yesterday, inTwoDays);
    issue(dir, "ca", "expired-client", "/CN=cvms", CLIENT_AUTH, now.minus(DAY.multipliedBy(2)), yesterday);
    issue(dir, "ca", "future-client", "/CN=cvms", CLIENT_AUTH, now.plus(DAY), inTwoDays);
    issue(dir, "ca", "server-auth-client", "/CN=cvms", "extendedKeyUsage=serverAuth", yesterday, inTwoDays);
    return new TestCerts(dir);
  }

  public Path caCert() {
    return dir.resolve("ca.pem");
  }

  public Path serverCert() {
    return dir.resolve("server.pem");
  }

  public Path serverKey() {
    return dir.resolve("server.key");
  }

  public Path clientCert() {
    return dir.resolve("client.pem");
  }

  public Path clientKey() {
    return dir.resolve("client.key");
  }

  public Path otherCaCert() {
    return dir.resolve("other-ca.pem");
  }

  /**
   * What a client presents, by name, in this order: nothing; {@code valid}, this CA's client certificate;
   * {@code expired}, {@code not yet valid} and {@code serverAuth only}, this CA's certificates that are expired, not
   * valid until tomorrow, or marked for servers alone; {@code foreign CA}, another CA's. Each certificate is presented
   * whatever CAs the server says it accepts and whatever its key usage: a JDK client would send none whose issuer is
   * not on that list or whose extended key usage leaves out clientAuth, which would make those the same test as none.
   */
  public Map<String, Optional<KeyCertOptions>> clientIdentities() throws IOException, GeneralSecurityException {
    Map<String, Optional<KeyCertOptions>> identities = new LinkedHashMap<>();
    identities.put("no certificate", Optional.empty());
    identities.put("valid", Optional.of(presenting("client")));
    identities.put("expired", Optional.of(presenting("expired-client")));
    identities.put("not yet valid", Optional.of(presenting("future-client")));
    identities.put("serverAuth only", Optional.of(presenting("server-auth-client")));
    identities.put("foreign CA", Optional.of(presenting("foreign-client")));
    return identities;
  }

  private KeyCertOptions presenting(String name) throws IOException, GeneralSecurityException {
    return presenting(dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
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

  /**
   * A certificate signed by {@code ca} and valid from {@code notBefore} to {@code notAfter}: {@code openssl ca}, as
   * {@code openssl x509 -req} (3.0) sets no start date. Each CA keeps its own database, where subjects may repeat
   * (the serial file is named but unused: serials are random).
   */
  private static void issue(Path dir, String ca, String name, String subject, String extension, Instant notBefore,
      Instant notAfter) throws IOException, InterruptedException {
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
        "-keyout", name + ".key", "-out", name + ".csr");
    Path database = dir.resolve(ca + ".index");
    if (!Files.exists(database)) {
      Files.createFile(database);
      Files.writeString(dir.resolve(ca + ".cnf"), String.join("\n", "[ca]", "default_ca = test", "[test]",
          "database = " + database, "serial = " + dir.resolve(ca + ".serial"), "unique_subject = no", "new_certs_dir = " + dir, "default_md = sha256",
          "policy = any", "[any]", "commonName = supplied", ""));
    }
    openssl(dir, "ca", "-batch", "-notext", "-rand_serial", "-config", ca + ".cnf", "-cert", ca + ".pem",
        "-keyfile", ca + ".key", "-in", name + ".csr", "-startdate", asn1Time(notBefore),
        "-enddate", asn1Time(notAfter), "-extfile", writeExtension(dir, name, extension).toString(),
        "-out", name + ".pem");
  }

  /** The GeneralizedTime form that {@code openssl ca -startdate/-enddate} take. */
  private static String asn1Time(Instant instant) {
    return DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC).format(instant);
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
