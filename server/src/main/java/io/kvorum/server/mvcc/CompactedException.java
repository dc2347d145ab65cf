package io.kvorum.server.mvcc;

/** etcd's {@code ErrCompacted}: the revision asked for is at or below the compaction point. */
public final class CompactedException extends MvccException {
  private static final long serialVersionUID = 1L;

  /** etcd's exact text. */
  public static final String MESSAGE = "mvcc: required revision has been compacted";

  private final long compactRevision;

  CompactedException(long compactRevision) {
    super(MESSAGE);
    this.compactRevision = compactRevision;
  }

  /** The store's compaction revision when the request was refused. */
  public long compactRevision() {
    return compactRevision;
  }
}
