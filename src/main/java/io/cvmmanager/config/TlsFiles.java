package io.cvmmanager.config;

import java.util.Optional;

/**
 * The PEM files of one server's TLS. No certificate: plain text. A certificate and key: TLS. A client CA as well:
 * mutual TLS, client certificates required. {@code serverCaCerts} is accepted as upstream does; a Go server puts it
 * in {@code RootCAs}, which a server never consults, and so do we (it is validated, and logged as unused).
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
    return tls() && clientCaCerts.isPresent();
  }
}
