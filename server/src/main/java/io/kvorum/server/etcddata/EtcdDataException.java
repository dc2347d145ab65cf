package io.kvorum.server.etcddata;

/**
 * An etcd data dir that cannot be read as etcd 3.4 would: a corrupt or inconsistent WAL, no usable
 * snapshot, an entry that does not decode. The message names the file and the reason.
 */
public final class EtcdDataException extends Exception {
  private static final long serialVersionUID = 1L;

  public EtcdDataException(String message) {
    super(message);
  }

  public EtcdDataException(String message, Throwable cause) {
    super(message, cause);
  }
}
