package io.kvorum.server.storage;

/**
 * The backend failed to read or write, or found bytes it cannot trust. Unchecked on purpose: the
 * member cannot go on applying the raft log over a backend it no longer trusts, so callers let it
 * stop the apply loop instead of retrying. The RocksDB cause, when there is one, is kept for the
 * log but never appears in a signature.
 */
public final class StorageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StorageException(String message) {
    super(message);
  }

  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
