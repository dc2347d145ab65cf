package io.kvorum.server.mvcc;

import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.ReadView;
import java.util.function.Predicate;

/**
 * A read of one revision of the key space (etcd's {@code TxnRead}): every range in it reads at the
 * revision that was current when it was opened, on a backend snapshot taken then. Holds no lock;
 * writes go on while it is open. Used by one thread; close it when done.
 */
public final class ReadTxn implements AutoCloseable {
  private final KvStore store;
  private final ReadView view;
  private final long revision;
  private final long compactRevision;
  /** Ranges read so far, reported to the store's observer on close. */
  private int ranges;

  ReadTxn(KvStore store, ReadView view, long revision, long compactRevision) {
    this.store = store;
    this.view = view;
    this.revision = revision;
    this.compactRevision = compactRevision;
  }

  /** The store's revision when this read was opened: what ranges read at by default. */
  public long revision() {
    return revision;
  }

  /** The compaction revision when this read was opened (etcd's {@code FirstRev}). */
  public long compactRevision() {
    return compactRevision;
  }

  /**
   * Reads {@code range}: at {@code options.revision()} if set, else at {@link #revision()}.
   *
   * @throws FutureRevisionException if the revision asked for is above {@link #revision()}
   * @throws CompactedException if it is below the store's compaction revision (checked live: a
   *     compaction while this read is open makes older revisions fail, as in etcd)
   */
  public RangeResult range(KeyRange range, RangeOptions options) {
    ranges++;
    return store.rangeAt(range, options, revision, revs -> KvStore.fetchFrom(view, revs));
  }

  /**
   * Streams {@code range} in key order to {@code visitor} (until it returns false), fetching from
   * the backend in chunks of {@link KvStore#RANGE_FETCH_KEYS_MAX}. {@code options.limit()} and
   * {@code countOnly()} are ignored; stop through the visitor instead.
   *
   * @return how many key-values were visited
   */
  public long forEach(KeyRange range, RangeOptions options, Predicate<KeyValue> visitor) {
    return store.scanAt(range, options, revision, revs -> KvStore.fetchFrom(view, revs), visitor);
  }

  /** Releases the backend snapshot; idempotent. */
  @Override
  public void close() {
    if (ranges > 0) {
      store.observer().txnEnded(ranges, 0, 0, 0);
      ranges = 0;
    }
    view.close();
  }
}
