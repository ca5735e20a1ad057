package io.cvmmanager.config;

import java.util.Optional;

/**
 * The PEM files of one server's TLS, read as upstream's server (Magistrala's {@code pkg/server/grpc}) reads them.
 * No certificate: plain text. A certificate and key: TLS, no client certificate asked for. Either CA file as well:
 * mutual TLS, a client certificate is required and verified against {@code clientCaCerts} when it is set, else
 * against {@code serverCaCerts}. Upstream requires a client certificate in both cases too; it verifies one against
 * the client CA only (a Go server never consults the server CA, so with that file alone it falls back to the
 * system's CAs), which would leave a server-CA-only configuration open to any publicly issued certificate.
 */
public record TlsFiles(Optional<String> cert, Optional<String> key, Optional<String> serverCaCerts,
    Optional<String> clientCaCerts, String certSource) {

  public static TlsFiles none() {
    return new TlsFiles(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), "");
  }

  public boolean tls() {
    return cert.isPresent();
  }

  public boolean mutual() {
    return clientTrust().isPresent();
  }

  /** The CA file that client certificates are verified against: none without TLS or without a CA file. */
  public Optional<String> clientTrust() {
    return tls() ? clientCaCerts.or(() -> serverCaCerts) : Optional.empty();
  }
}
