package io.kvorum.server.tls;

import java.io.IOException;

/**
 * TLS material that cannot be used: a file that is missing or not PEM, a key that does not match
 * its certificate, an unknown cipher suite. The message names the file or value, in etcd's words
 * where etcd has them.
 */
public final class TlsException extends IOException {
  private static final long serialVersionUID = 1L;

  public TlsException(String message) {
    super(message);
  }

  public TlsException(String message, Throwable cause) {
    super(message, cause);
  }
}
