package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema.Bucket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The write transaction of one raft entry (etcd's {@code TxnWrite}): its puts and deletions share
 * the main revision {@code beginRevision() + 1} with sub revisions 0, 1, 2… in order, and its
 * ranges see its own earlier changes. Nothing is visible to readers until {@link #end} commits it.
 *
 * <p>Writer thread only. Always {@link #end} it; closing one that changed something without ending
 * it stops the store (the index already holds the changes, the backend does not).
 */
public final class WriteTxn implements AutoCloseable {
  private final KvStore store;
  private final Backend backend;
  private final Index index;
  private final long beginRev;
  private final ConsistentIndex ci;
  private final Batch batch;
  private final List<Event> changes = new ArrayList<>();
  /** Key-values written by this txn, by sub revision; null for deletions. */
  private final List<KeyValue> pending = new ArrayList<>();
  private ReadView live;
  private boolean over;
  /** Whether the batch holds writes outside the key space (they commit even without a revision). */
  private boolean extras;
  // Operations so far, for the store's observer (etcd's metricsTxnWrite).
  private int ranges;
  private int puts;
  private int deletes;
  private long putBytes;

  WriteTxn(KvStore store, Backend backend, Index index, long beginRev, ConsistentIndex ci) {
    this.store = store;
    this.backend = backend;
    this.index = index;
    this.beginRev = beginRev;
    this.ci = ci;
    this.batch = backend.newBatch();
  }

  /** The store's revision when this transaction began. */
  public long beginRevision() {
    return beginRev;
  }

  /** The store's compaction revision (-1 if it was never compacted): reads below it fail. */
  public long compactRevision() {
    return store.compactRevision();
  }

  /** The revision this transaction's ranges read at: its own if it changed anything. */
  public long revision() {
    return changes.isEmpty() ? beginRev : beginRev + 1;
  }

  /** Reads {@code range} as it is inside this transaction (see {@link ReadTxn#range}). */
  public RangeResult range(KeyRange range, RangeOptions options) {
    checkNotOver();
    ranges++;
    return store.rangeAt(range, options, revision(), this::fetch);
  }

  private List<KeyValue> fetch(List<Revision> revisions) {
    List<KeyValue> out = new ArrayList<>(Collections.nCopies(revisions.size(), (KeyValue) null));
    List<Revision> stored = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < revisions.size(); i++) {
      Revision r = revisions.get(i);
      if (r.main() == beginRev + 1) {
        KeyValue kv = pending.get((int) r.sub());
        Invariants.check(kv != null, "pending revision %s is a deletion", r);
        out.set(i, kv);
      } else {
        stored.add(r);
        at.add(i);
      }
    }
    if (!stored.isEmpty()) {
      if (live == null) {
        live = backend.liveView();
      }
      List<KeyValue> kvs = KvStore.fetchFrom(live, stored);
      for (int i = 0; i < kvs.size(); i++) {
        out.set(at.get(i), kvs.get(i));
      }
    }
    return out;
  }

  /**
   * Writes {@code key} = {@code value} with {@code lease} (0 for none). The key keeps its creation
   * revision and gets the next version if it is live; else it is created with version 1.
   *
   * @return the revision this transaction commits at
   */
  public long put(ByteString key, ByteString value, long lease) {
    checkNotOver();
    if (key.isEmpty()) {
      throw new IllegalArgumentException("mvcc: cannot put an empty key");
    }
    puts++;
    putBytes += key.size() + value.size();
    long rev = beginRev + 1;
    int sub = changes.size();
    KeyIndex.Found prev = index.get(key, rev);
    KeyValue kv =
        KeyValue.newBuilder()
            .setKey(key)
            .setValue(value)
            .setCreateRevision(prev == null ? rev : prev.createRevision())
            .setModRevision(rev)
            .setVersion(prev == null ? 1 : prev.version() + 1)
            .setLease(lease)
            .build();
    byte[] revKey = new Revision(rev, sub).toKey();
    byte[] record = kv.toByteArray();
    batch.put(Bucket.KEY, revKey, record);
    index.put(key, rev, sub, (long) revKey.length + record.length);
    pending.add(kv);
    changes.add(Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build());
    return rev;
  }

  /**
   * Deletes every key of {@code range} that is live in this transaction's view, each with its own
   * sub revision, in key order.
   */
  public DeleteResult deleteRange(KeyRange range) {
    checkNotOver();
    deletes++;
    List<ByteString> keys = new ArrayList<>();
    index.range(
        range,
        revision(),
        (k, found) -> {
          keys.add(k);
          return true;
        });
    for (ByteString key : keys) {
      delete(key);
    }
    return new DeleteResult(keys.size(), revision());
  }

  private void delete(ByteString key) {
    long rev = beginRev + 1;
    int sub = changes.size();
    byte[] revKey = new Revision(rev, sub).toTombstoneKey();
    byte[] record = KeyValue.newBuilder().setKey(key).build().toByteArray();
    batch.put(Bucket.KEY, revKey, record);
    index.tombstone(key, rev, sub, (long) revKey.length + record.length);
    pending.add(null);
    changes.add(
        Event.newBuilder()
            .setType(Event.EventType.DELETE)
            .setKv(KeyValue.newBuilder().setKey(key).setModRevision(rev))
            .build());
  }

  /**
   * Adds a write outside the key space (another bucket) to this transaction's atomic batch, such as
   * a lease record; it commits with the transaction even if no key changes.
   */
  public void putOther(Bucket bucket, byte[] key, byte[] value) {
    checkOther(bucket);
    batch.put(bucket, key, value);
  }

  /** Adds a deletion outside the key space to this transaction's batch (see {@link #putOther}). */
  public void deleteOther(Bucket bucket, byte[] key) {
    checkOther(bucket);
    batch.delete(bucket, key);
  }

  private void checkOther(Bucket bucket) {
    checkNotOver();
    if (bucket == Bucket.KEY) {
      throw new IllegalArgumentException("mvcc: key-space writes go through put/deleteRange");
    }
    extras = true;
  }

  /**
   * The changes so far, in order: a PUT with the key-value written, or a DELETE whose key-value has
   * the key and the deleting revision (what watchers receive).
   */
  public List<Event> changes() {
    return Collections.unmodifiableList(changes);
  }

  /**
   * Commits: if anything changed, writes every change and the consistent index in one atomic batch
   * and publishes the new revision.
   *
   * @return the store's revision afterwards
   */
  public long end() {
    checkNotOver();
    over = true;
    try {
      if (changes.isEmpty() && !extras) {
        return beginRev;
      }
      long rev = changes.isEmpty() ? beginRev : beginRev + 1;
      try {
        batch.setConsistentIndex(ci);
        backend.commit(batch);
        if (changes.isEmpty()) {
          store.committedWithoutRevision(ci);
        } else {
          store.committed(this, rev, ci);
        }
      } catch (RuntimeException e) {
        store.fail(e);
        throw e;
      }
      return rev;
    } finally {
      release();
    }
  }

  private void checkNotOver() {
    if (over) {
      throw new IllegalStateException("mvcc: write txn already ended");
    }
  }

  private void release() {
    if (ranges + puts + deletes > 0) {
      store.observer().txnEnded(ranges, puts, deletes, putBytes);
    }
    try {
      if (live != null) {
        live.close();
      }
      batch.close();
    } finally {
      store.released();
    }
  }

  /**
   * Ends the transaction if {@link #end} was not called: harmless if nothing changed, otherwise the
   * store stops (an abandoned half-applied entry cannot be undone in the index).
   */
  @Override
  public void close() {
    if (over) {
      return;
    }
    over = true;
    if (!changes.isEmpty()) {
      store.fail(
          new IllegalStateException(
              "mvcc: write txn at revision " + (beginRev + 1) + " abandoned after " + changes.size()
                  + " changes"));
    }
    release();
  }
}
