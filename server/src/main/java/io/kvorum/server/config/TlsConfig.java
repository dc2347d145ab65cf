package io.kvorum.server.config;

import java.nio.file.Path;

/**
 * TLS settings of one side (clients or peers), as etcd's {@code --cert-file}/{@code --peer-cert-file}
 * families give them.
 *
 * @param certFile PEM certificate chain, or null
 * @param keyFile PEM private key (PKCS#1 or PKCS#8), or null
 * @param trustedCaFile PEM CA bundle used to verify the other side, or null
 * @param clientCertAuth require and verify the other side's certificate
 * @param autoTls generate a self-signed certificate at start when no cert/key is given
 * @param crlFile PEM certificate revocation list, or null
 * @param allowedCn the only common name accepted from the other side, or null
 * @param allowedHostname the only host name (SAN) accepted from the other side, or null
 */
public record TlsConfig(
    Path certFile,
    Path keyFile,
    Path trustedCaFile,
    boolean clientCertAuth,
    boolean autoTls,
    Path crlFile,
    String allowedCn,
    String allowedHostname) {

  public static final TlsConfig NONE = new TlsConfig(null, null, null, false, false, null, null, null);

  /** True when this side serves TLS (with given or generated certificates). */
  public boolean enabled() {
    return (certFile != null && keyFile != null) || autoTls;
  }

  /** True when certificate and key files are given. */
  public boolean hasCertFiles() {
    return certFile != null && keyFile != null;
  }
}
