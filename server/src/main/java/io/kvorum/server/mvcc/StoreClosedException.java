package io.kvorum.server.mvcc;

/** etcd's {@code ErrClosed}: the store was closed (or stopped after a failure). */
public final class StoreClosedException extends MvccException {
  private static final long serialVersionUID = 1L;

  /** etcd's exact text. */
  public static final String MESSAGE = "mvcc: closed";

  StoreClosedException() {
    super(MESSAGE);
  }

  StoreClosedException(Throwable cause) {
    super(MESSAGE);
    initCause(cause);
  }
}
