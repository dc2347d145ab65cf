package io.kvorum.server.storage;

import io.kvorum.server.storage.Schema.Bucket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * Reads from the backend, either at one point in time ({@link Backend#snapshotView}: a RocksDB
 * snapshot, so every read sees the same state however long the view stays open and whatever is
 * committed meanwhile) or at the latest state ({@link Backend#liveView}). Reading takes no lock that
 * a writer waits on.
 *
 * <p>Used by one thread at a time. Close it when done: an open snapshot keeps RocksDB from dropping
 * the versions it sees, and an open view keeps the native database alive.
 */
public final class ReadView implements AutoCloseable {
  /** Keys fetched per native multi-get call by {@link #getAll}. */
  public static final int MULTI_GET_KEYS_MAX = 256;

  /** Buckets in the order the hash visits them: unsigned order of their disk names. */
  private static final List<Bucket> BUCKETS_BY_DISK_NAME =
      Arrays.stream(Bucket.values())
          .sorted((a, b) -> Arrays.compareUnsigned(a.diskNameBytes(), b.diskNameBytes()))
          .toList();

  private static final byte[] NO_KEY = new byte[0];
  /** Native buffer a bulk scan starts with for values; it grows for a larger one. */
  private static final int BULK_VALUE_BUFFER_BYTES = 64 * 1024;

  private final Backend backend;
  private final RocksDB db;
  private final Snapshot snapshot;
  private final ReadOptions options;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The value buffer of {@link #scanBulk}, kept for the view's next bulk scan. */
  private ByteBuffer bulkValue;

  private ReadView(Backend backend, RocksDB db, Snapshot snapshot) {
    this.backend = backend;
    this.db = db;
    this.snapshot = snapshot;
    this.options = new ReadOptions();
    if (snapshot != null) {
      options.setSnapshot(snapshot);
    }
  }

  static ReadView snapshot(Backend backend, RocksDB db) {
    return new ReadView(backend, db, db.getSnapshot());
  }

  static ReadView live(Backend backend, RocksDB db) {
    return new ReadView(backend, db, null);
  }

  /** True if this view reads at one point in time. */
  public boolean isSnapshot() {
    return snapshot != null;
  }

  /** The value of {@code key} in {@code bucket}, or null. */
  public byte[] get(Bucket bucket, byte[] key) {
    checkOpen();
    try {
      return db.get(backend.handle(bucket), options, key);
    } catch (RocksDBException e) {
      throw Backend.translate("get from " + bucket.diskName(), e);
    }
  }

  /** The values of {@code keys} in {@code bucket}, in the same order; null where absent. */
  public List<byte[]> getAll(Bucket bucket, List<byte[]> keys) {
    checkOpen();
    if (keys.isEmpty()) {
      return List.of();
    }
    ColumnFamilyHandle h = backend.handle(bucket);
    List<byte[]> out = new ArrayList<>(keys.size());
    try {
      for (int from = 0; from < keys.size(); from += MULTI_GET_KEYS_MAX) {
        List<byte[]> chunk = keys.subList(from, Math.min(keys.size(), from + MULTI_GET_KEYS_MAX));
        out.addAll(db.multiGetAsList(options, Collections.nCopies(chunk.size(), h), chunk));
      }
    } catch (RocksDBException e) {
      throw Backend.translate("multi-get from " + bucket.diskName(), e);
    }
    return out;
  }

  /**
   * Visits the entries of {@code bucket} with keys in {@code [from, toExclusive)} in key order,
   * at most {@code limitEntries} of them. A null {@code toExclusive} means no upper bound.
   *
   * @return the number of entries visited (including the one whose visit returned false)
   */
  public long scan(
      Bucket bucket, byte[] from, byte[] toExclusive, long limitEntries, EntryVisitor visitor) {
    return iterate(bucket, from, toExclusive, limitEntries, visitor, null);
  }

  /** Like {@link #scan} but reads only keys, never copying values out of RocksDB. */
  public long scanKeys(
      Bucket bucket, byte[] from, byte[] toExclusive, long limitEntries, KeyVisitor visitor) {
    return iterate(bucket, from, toExclusive, limitEntries, null, visitor);
  }

  private long iterate(
      Bucket bucket,
      byte[] from,
      byte[] toExclusive,
      long limitEntries,
      EntryVisitor entries,
      KeyVisitor keys) {
    checkOpen();
    if (limitEntries < 0) {
      throw new IllegalArgumentException("limitEntries must be >= 0, got " + limitEntries);
    }
    long visited = 0;
    try (RocksIterator it = db.newIterator(backend.handle(bucket), options)) {
      it.seek(from);
      while (visited < limitEntries && it.isValid()) {
        byte[] key = it.key();
        if (toExclusive != null && Arrays.compareUnsigned(key, toExclusive) >= 0) {
          break;
        }
        visited++;
        boolean more = entries != null ? entries.visit(key, it.value()) : keys.visit(key);
        if (!more) {
          break;
        }
        it.next();
      }
      it.status();
    } catch (RocksDBException e) {
      throw Backend.translate("scan " + bucket.diskName(), e);
    }
    return visited;
  }

  /**
   * Visits the entries of {@code bucket} from {@code from} on in key order, for passes over a whole
   * bucket (rebuilding the index, hashing, shipping the backend): blocks are kept out of the block
   * cache (where they would only push out what serves requests), and each value is read into one
   * reused native buffer instead of an array of its own. Read-ahead is RocksDB's own, which grows
   * as the iterator goes on (a fixed 4 MiB was 15 % faster for one pass over a bucket, and slowed
   * the backend shipped in 1 MiB chunks, one iterator each).
   *
   * @return the number of entries visited (including the one whose visit returned false)
   */
  public long scanBulk(Bucket bucket, byte[] from, BulkVisitor visitor) {
    checkOpen();
    long visited = 0;
    ByteBuffer value = bulkValue != null ? bulkValue : ByteBuffer.allocateDirect(BULK_VALUE_BUFFER_BYTES);
    try (ReadOptions bulk = new ReadOptions().setFillCache(false)) {
      if (snapshot != null) {
        bulk.setSnapshot(snapshot);
      }
      try (RocksIterator it = db.newIterator(backend.handle(bucket), bulk)) {
        it.seek(from);
        while (it.isValid()) {
          byte[] key = it.key();
          value.clear();
          int size = it.value(value);
          if (size > value.capacity()) {
            value = ByteBuffer.allocateDirect(Math.max(size, 2 * value.capacity()));
            it.value(value);
          }
          visited++;
          if (!visitor.visit(key, value)) {
            break;
          }
          it.next();
        }
        it.status();
      }
    } catch (RocksDBException e) {
      throw Backend.translate("scan " + bucket.diskName(), e);
    } finally {
      bulkValue = value;
    }
    return visited;
  }

  /** The consistent index this view sees, or {@link ConsistentIndex#ZERO} if none was ever written. */
  public ConsistentIndex consistentIndex() {
    return Schema.readConsistentIndex(get(Bucket.META, Schema.META_CONSISTENT_INDEX), get(Bucket.META, Schema.META_TERM));
  }

  /** The greatest key in {@code bucket}, or null if the bucket is empty. */
  public byte[] lastKey(Bucket bucket) {
    checkOpen();
    try (RocksIterator it = db.newIterator(backend.handle(bucket), options)) {
      it.seekToLast();
      byte[] key = it.isValid() ? it.key() : null;
      it.status();
      return key;
    } catch (RocksDBException e) {
      throw Backend.translate("seek to the last key of " + bucket.diskName(), e);
    }
  }

  /**
   * etcd's backend {@code Hash}: CRC-32C over every bucket's name, keys and values in this view,
   * leaving out the raft position (the order and the exclusions are laid down in {@link Schema}).
   * A full scan of the database, bounded by its size as etcd's is; callers keep it off the raft and
   * apply threads. Writes go on meanwhile: the view's snapshot keeps what it hashes fixed.
   *
   * @return the checksum as an unsigned 32-bit value
   * @throws IllegalStateException if this is a live view, whose content could move under the scan
   */
  public long hash() {
    checkOpen();
    if (!isSnapshot()) {
      throw new IllegalStateException("storage: hash needs a snapshot view, not a live one");
    }
    CRC32C crc = new CRC32C();
    for (Bucket bucket : BUCKETS_BY_DISK_NAME) {
      crc.update(bucket.diskNameBytes());
      scanBulk(bucket, NO_KEY, (k, v) -> {
        if (!Schema.leftOutOfHash(bucket, k)) {
          crc.update(k);
          crc.update(v);
        }
        return true;
      });
    }
    return crc.getValue();
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("storage: read view is closed");
    }
  }

  /** Releases the snapshot; idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        options.close();
        if (snapshot != null) {
          db.releaseSnapshot(snapshot);
        }
      } finally {
        backend.unpin();
      }
    }
  }
}
