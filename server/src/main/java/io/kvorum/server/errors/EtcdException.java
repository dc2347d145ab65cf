package io.kvorum.server.errors;

/** A request failed with one of etcd's client-visible errors. */
public final class EtcdException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final EtcdError error;

  public EtcdException(EtcdError error) {
    super(error.message(), null, false, false);
    this.error = error;
  }

  public EtcdError error() {
    return error;
  }
}
