package io.kvorum.embedded;

import io.kvorum.server.config.TlsConfig;
import java.nio.file.Path;

/**
 * One side's TLS as the builder was given it: certificate and key files (and the CA that must have
 * signed the other side's certificate), or a self-signed certificate each member makes at start.
 */
record TlsFiles(Path certFile, Path keyFile, Path trustedCaFile, boolean generated) {
  static final TlsFiles NONE = new TlsFiles(null, null, null, false);
  static final TlsFiles GENERATED = new TlsFiles(null, null, null, true);

  boolean enabled() {
    return generated || certFile != null;
  }

  /** etcd's flags for the side: {@code --auto-tls}, or the files with {@code --client-cert-auth} when a CA is given. */
  TlsConfig config() {
    if (!enabled()) {
      return TlsConfig.NONE;
    }
    if (generated) {
      return new TlsConfig(null, null, null, false, true, null, null, null);
    }
    return new TlsConfig(certFile, keyFile, trustedCaFile, trustedCaFile != null, false, null, null, null);
  }
}
