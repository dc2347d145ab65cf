package io.kvorum.server.storage;

import io.kvorum.server.storage.Schema.Bucket;
import java.util.concurrent.atomic.AtomicBoolean;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Writes collected in memory and applied atomically by {@link Backend#commit}. Not thread-safe: one
 * thread fills and commits it. Close it after committing (or to drop it); an open batch keeps the
 * backend's native database alive.
 */
public final class Batch implements AutoCloseable {
  private final Backend backend;
  private final WriteBatch batch = new WriteBatch();
  private final AtomicBoolean closed = new AtomicBoolean();

  Batch(Backend backend) {
    this.backend = backend;
  }

  /** Sets {@code key} to {@code value} in {@code bucket}. */
  public Batch put(Bucket bucket, byte[] key, byte[] value) {
    try {
      batch.put(backend.handle(bucket), key, value);
    } catch (RocksDBException e) {
      throw Backend.translate("batch put into " + bucket.diskName(), e);
    }
    return this;
  }

  /** Removes {@code key} from {@code bucket}; no effect if it is absent. */
  public Batch delete(Bucket bucket, byte[] key) {
    try {
      batch.delete(backend.handle(bucket), key);
    } catch (RocksDBException e) {
      throw Backend.translate("batch delete from " + bucket.diskName(), e);
    }
    return this;
  }

  /** Removes every key in {@code [from, toExclusive)} from {@code bucket}. */
  public Batch deleteRange(Bucket bucket, byte[] from, byte[] toExclusive) {
    try {
      batch.deleteRange(backend.handle(bucket), from, toExclusive);
    } catch (RocksDBException e) {
      throw Backend.translate("batch delete range from " + bucket.diskName(), e);
    }
    return this;
  }

  /**
   * Records that this batch carries the effects of the raft entry at {@code ci}; it becomes the
   * persisted consistent index exactly when the batch is committed.
   */
  public Batch setConsistentIndex(ConsistentIndex ci) {
    put(Bucket.META, Schema.META_CONSISTENT_INDEX, Schema.longBytes(ci.index()));
    put(Bucket.META, Schema.META_TERM, Schema.longBytes(ci.term()));
    return this;
  }

  /** Number of operations collected so far. */
  public int count() {
    return batch.count();
  }

  /** Bytes of the batch's serialized form. */
  public long sizeBytes() {
    return batch.getDataSize();
  }

  Backend backend() {
    return backend;
  }

  WriteBatch rocks() {
    return batch;
  }

  /** Frees the batch; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      batch.close();
      backend.unpin();
    }
  }
}
