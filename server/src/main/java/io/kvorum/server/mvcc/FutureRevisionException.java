package io.kvorum.server.mvcc;

/** etcd's {@code ErrFutureRev}: the revision asked for is above the store's current revision. */
public final class FutureRevisionException extends MvccException {
  private static final long serialVersionUID = 1L;

  /** etcd's exact text. */
  public static final String MESSAGE = "mvcc: required revision is a future revision";

  private final long currentRevision;

  FutureRevisionException(long currentRevision) {
    super(MESSAGE);
    this.currentRevision = currentRevision;
  }

  /** The store's current revision when the request was refused. */
  public long currentRevision() {
    return currentRevision;
  }
}
