package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import io.kvorum.server.storage.StorageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * The MVCC key-value store of one member (etcd 3.4's {@code mvcc.store}): every committed write
 * transaction makes a new main revision of the whole key space; reads see any revision at or
 * after the compaction revision.
 *
 * <h2>Design: one writer, fully concurrent readers</h2>
 *
 * <p><b>Threads.</b> Exactly one writer, the apply loop, calls {@link #write}, {@link #put},
 * {@link #deleteRange} and {@link #compact}; a second concurrent write is refused. Any number of
 * reader threads call {@link #read}, {@link #range}, {@link #hashKv} and {@link #hash} at any
 * time. One compactor (an injected {@link Executor}) deletes compacted revisions from the backend in
 * bounded batches.
 *
 * <p><b>No shared locks.</b> A reader never holds anything a write waits for, however long it
 * iterates:
 *
 * <ul>
 *   <li>Opening a read is lock-free: read the volatile {@code currentRev} (call it R), then take a
 *       RocksDB snapshot. The writer commits a revision's batch to RocksDB <em>before</em> it
 *       publishes the revision, so the snapshot holds everything up to R.
 *   <li>The {@link Index} is a concurrent skip list of immutable per-key {@link KeyIndex} objects
 *       that the writer replaces copy-on-write. Asked at R, any version of a key gives the same
 *       answer: later versions only add revisions above R.
 *   <li>Compaction publishes the new compaction revision <em>before</em> it trims the index, so a
 *       reader below it that may have seen a trimmed key notices on re-reading the compaction
 *       revision after its index walk, and fails with {@link CompactedException} as etcd does.
 *       Physical deletion only removes revisions no reader at or above the compaction revision
 *       needs, and older snapshots still see them anyway.
 * </ul>
 *
 * <p><b>Writes.</b> A {@link WriteTxn} gives all its changes one main revision and sub revisions
 * 0, 1, 2…; it updates the index as it goes (so later operations of the same transaction see
 * earlier ones), collects the backend writes in one batch together with the raft consistent index,
 * commits the batch atomically (not fsynced: the raft WAL is durable, and a member re-applies what
 * the backend lost), and only then publishes the new revision. A failure to commit leaves the index
 * ahead of the backend, so the store stops: every later call throws {@link StoreClosedException}.
 *
 * <p><b>Compaction.</b> {@link #compact} checks the revision (etcd's errors), persists it as
 * scheduled in the same batch as the consistent index, publishes it, compacts the index on the
 * writer thread (a pass over all keys, which gives an exact set of revisions to keep) and hands the
 * physical deletion to the compactor, which writes the finished mark in the same batch as its last
 * deletions. Opening a store whose scheduled compaction is newer than its finished one resumes it.
 */
public final class KvStore implements AutoCloseable {
  /** Values fetched from the backend per multi-get while serving a range. */
  public static final int RANGE_FETCH_KEYS_MAX = ReadView.MULTI_GET_KEYS_MAX;
  /** A hash restarts when a compaction lands meanwhile; it gives up after this many tries. */
  static final int HASH_ATTEMPTS_MAX = 16;

  private static final byte[] KEY_BUCKET_NAME = "key".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NO_KEY = new byte[0];

  private final Backend backend;
  private final KvStoreConfig config;
  private final Index index = new Index();
  private final Compactor compactor;
  private final ExecutorService ownedExecutor;
  private final AtomicBoolean writerBusy = new AtomicBoolean();
  private final Map<ByteString, Long> restoredLeases;
  /** The unfinished compaction found on open, started once construction is over; or null. */
  private Runnable resumeCompaction;

  /** Revision of the last committed write transaction; 1 for an empty store, as in etcd. */
  private volatile long currentRev = 1;
  /** Main revision of the last compaction; -1 if never compacted, as in etcd. */
  private volatile long compactRev = -1;
  private volatile boolean closed;
  private volatile Throwable failure;
  /** The consistent index last written or restored; written by the writer thread only. */
  private volatile ConsistentIndex consistentIndex;
  private volatile StoreObserver observer = StoreObserver.NONE;

  private KvStore(
      Backend backend, KvStoreConfig config, Executor compactorExecutor, ExecutorService owned) {
    this.backend = backend;
    this.config = config;
    this.ownedExecutor = owned;
    this.compactor = new Compactor(this, backend, compactorExecutor);
    this.restoredLeases = Collections.unmodifiableMap(restore());
  }

  /** Opens the store on {@code backend} with default tuning and its own compactor thread. */
  public static KvStore open(Backend backend) {
    return open(backend, KvStoreConfig.DEFAULT);
  }

  /** Opens the store on {@code backend} with its own compactor thread. */
  public static KvStore open(Backend backend, KvStoreConfig config) {
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "kvorum-mvcc-compactor");
              t.setDaemon(true);
              return t;
            });
    try {
      return new KvStore(backend, config, executor, executor).started();
    } catch (RuntimeException e) {
      executor.shutdown();
      throw e;
    }
  }

  /**
   * Opens the store on {@code backend}, rebuilding the index from it and resuming an unfinished
   * compaction. Physical compaction runs as a sequence of tasks, one bounded batch each, on
   * {@code compactorExecutor} (which need not be single-threaded: tasks never overlap). The store
   * does not own the backend: close the store first, then the backend.
   */
  public static KvStore open(Backend backend, KvStoreConfig config, Executor compactorExecutor) {
    return new KvStore(backend, config, compactorExecutor, null).started();
  }

  private KvStore started() {
    if (resumeCompaction != null) {
      resumeCompaction.run();
      resumeCompaction = null;
    }
    return this;
  }

  // ---------------------------------------------------------------------------------------------
  // Restore

  private Map<ByteString, Long> restore() {
    IndexRebuild rebuilt = new IndexRebuild();
    try (ReadView view = backend.liveView()) {
      view.scanBulk(Bucket.KEY, NO_KEY, (k, v) -> {
        rebuilt.add(k, v);
        return true;
      });
    }
    return restore(rebuilt);
  }

  /** Loads the index {@code rebuilt} from this store's key bucket, then the revisions and marks. */
  private Map<ByteString, Long> restore(IndexRebuild rebuilt) {
    index.load(rebuilt.keys(), rebuilt.bytes());
    long finished = readCompactionMark(Schema.compactionFinishedKey(), "finishedCompactRev");
    long scheduled = readCompactionMark(Schema.compactionScheduledKey(), "scheduledCompactRev");
    compactRev = finished;
    currentRev = storeRevision(rebuilt.lastMain(), finished, scheduled);
    consistentIndex = backend.consistentIndex();
    if (scheduled > finished) {
      compactRev = scheduled;
      RevisionSet keep = index.compact(scheduled);
      resumeCompaction = () -> compactor.resume(scheduled, keep);
    }
    return rebuilt.leases();
  }

  /**
   * Rebuilds the store from its backend after the backend's whole content was replaced (a snapshot
   * installed from the leader): pending compactions of the old content are dropped, the index,
   * revisions and consistent index are read again, and an unfinished compaction of the new content
   * resumes. Writer thread only, with no write in progress.
   *
   * @return the live keys with a lease, for the lessor to attach
   */
  public Map<ByteString, Long> reload() {
    compactor.stop();
    Map<ByteString, Long> leases = restore();
    started();
    return leases;
  }

  /**
   * Like {@link #reload()}, with the index already rebuilt from exactly the key bucket's records
   * the backend now holds (a member that built it while receiving them), so the bucket is not read
   * again.
   */
  public Map<ByteString, Long> reload(IndexRebuild rebuilt) {
    compactor.stop();
    Map<ByteString, Long> leases = restore(rebuilt);
    started();
    return leases;
  }

  private long readCompactionMark(byte[] key, String what) {
    return compactionMark(backend.get(Bucket.COMPACTION, key), what);
  }

  private static long compactionMark(byte[] v, String what) {
    return v == null ? -1 : Schema.readLong(v, what);
  }

  /**
   * The revision of a backend whose newest revision key has main revision {@code lastMain} (1 if
   * none) with these compaction marks: a compaction may have removed every revision up to it, and
   * the store is at least there.
   */
  private static long storeRevision(long lastMain, long finishedCompactRev, long scheduledCompactRev) {
    return Math.max(lastMain, Math.max(finishedCompactRev, scheduledCompactRev));
  }

  /** The store's revision as {@code view} holds it, by the rule {@link #restore} opens with. */
  private static long revisionIn(ReadView view) {
    byte[] last = view.lastKey(Bucket.KEY);
    return storeRevision(
        last == null ? 1 : Revision.fromKey(last).main(),
        compactionMark(view.get(Bucket.COMPACTION, Schema.compactionFinishedKey()), "finishedCompactRev"),
        compactionMark(view.get(Bucket.COMPACTION, Schema.compactionScheduledKey()), "scheduledCompactRev"));
  }

  static KeyValue parse(byte[] bytes, Revision rev) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      // The array is ours alone (fresh from the backend), so the key and value may point into it.
      in.enableAliasing(true);
      return KeyValue.parseFrom(in);
    } catch (IOException e) {
      throw new StorageException("mvcc: cannot unmarshal the key-value at revision " + rev, e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State

  /** The revision of the last committed write (1 for an empty store). */
  public long currentRevision() {
    return currentRev;
  }

  /** The last compaction revision, -1 if the store was never compacted. */
  public long compactRevision() {
    return compactRev;
  }

  /**
   * The key space's logical size: bytes the records of every revision not yet compacted away take
   * in the backend (revision keys and stored key-values, tombstones included). It grows with each
   * write and falls when a compaction is applied, not when its physical deletion runs, so it is a
   * function of the entries applied: equal on every member, and across restarts and snapshots.
   */
  public long sizeBytes() {
    return index.bytes();
  }

  /** The consistent index of the last write this store committed, or the one it opened with. */
  public ConsistentIndex consistentIndex() {
    return consistentIndex;
  }

  /**
   * Live keys with a lease as found when the store was opened, for the lessor to re-attach (etcd
   * does this during its restore).
   */
  public Map<ByteString, Long> restoredLeases() {
    return restoredLeases;
  }

  /**
   * Completes when every compaction accepted so far (including one resumed on open) has been
   * physically finished.
   */
  public CompletableFuture<Void> physicalCompactionDone() {
    return compactor.lastDone().copy();
  }

  /** Compactions waiting in the compactor, the one in progress included (at most 2). */
  int compactionsQueued() {
    return compactor.queued();
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * Opens a read at the current revision. Lock-free; the transaction sees one revision of the key
   * space until it is closed, whatever is written meanwhile.
   */
  public ReadTxn read() {
    checkOpen();
    long rev = currentRev;
    long first = compactRev;
    // After reading rev: the writer commits to the backend before publishing a revision.
    return new ReadTxn(this, backend.snapshotView(), rev, first);
  }

  /** Reports every transaction's operations and every compaction batch to {@code o} from now on. */
  public void observe(StoreObserver o) {
    observer = o;
  }

  StoreObserver observer() {
    return observer;
  }

  /** Keys live at the current revision (etcd's {@code keys_total} gauge). */
  public long liveKeyCount() {
    return index.liveCount();
  }

  /** Reads {@code range} with {@code options} in a read transaction of its own. */
  public RangeResult range(KeyRange range, RangeOptions options) {
    try (ReadTxn txn = read()) {
      return txn.range(range, options);
    }
  }

  /** Where a range gets values from: a snapshot for readers, the live state plus pending writes. */
  interface ValueSource {
    /** The key-values stored at {@code revisions}, in order. */
    List<KeyValue> fetch(List<Revision> revisions);
  }

  /** The revision a range with {@code options} reads at, checked etcd's way. */
  long resolveRevision(RangeOptions options, long curRev) {
    long rev = options.revision();
    if (rev > curRev) {
      throw new FutureRevisionException(curRev);
    }
    if (rev <= 0) {
      rev = curRev;
    }
    checkNotCompacted(rev);
    return rev;
  }

  /**
   * etcd's rule for reads: a revision below the compaction revision is gone (the compaction
   * revision itself still reads).
   */
  void checkNotCompacted(long rev) {
    long c = compactRev;
    if (rev < c) {
      throw new CompactedException(c);
    }
  }

  RangeResult rangeAt(KeyRange range, RangeOptions options, long curRev, ValueSource values) {
    long rev = resolveRevision(options, curRev);
    long limit = options.limit();
    boolean collect = !options.countOnly();
    List<Revision> revs = new ArrayList<>();
    long[] count = {0};
    index.range(
        range,
        rev,
        (k, found) -> {
          count[0]++;
          if (collect && (limit == 0 || revs.size() < limit)) {
            revs.add(found.modified());
          }
          return true;
        });
    // A compaction may have trimmed the index under this walk.
    checkNotCompacted(rev);
    if (!collect) {
      return new RangeResult(List.of(), count[0], curRev, false);
    }
    List<KeyValue> kvs = values.fetch(revs);
    if (options.keysOnly()) {
      kvs = stripValues(kvs);
    }
    return new RangeResult(kvs, count[0], curRev, count[0] > kvs.size());
  }

  /**
   * Visits the key-values of {@code range} at {@code rev} in key order, fetching them in chunks of
   * {@link #RANGE_FETCH_KEYS_MAX}; stops when {@code visitor} returns false.
   *
   * @return how many key-values were visited
   */
  long scanAt(
      KeyRange range,
      RangeOptions options,
      long curRev,
      ValueSource values,
      Predicate<KeyValue> visitor) {
    long rev = resolveRevision(options, curRev);
    List<Revision> chunk = new ArrayList<>(RANGE_FETCH_KEYS_MAX);
    long[] visited = {0};
    boolean[] stopped = {false};
    Predicate<List<Revision>> flush =
        revs -> {
          checkNotCompacted(rev);
          List<KeyValue> kvs = values.fetch(revs);
          revs.clear();
          for (KeyValue kv : options.keysOnly() ? stripValues(kvs) : kvs) {
            visited[0]++;
            if (!visitor.test(kv)) {
              stopped[0] = true;
              return false;
            }
          }
          return true;
        };
    index.range(
        range,
        rev,
        (k, found) -> {
          chunk.add(found.modified());
          return chunk.size() < RANGE_FETCH_KEYS_MAX || flush.test(chunk);
        });
    if (!stopped[0] && !chunk.isEmpty()) {
      flush.test(chunk);
    }
    return visited[0];
  }

  private static List<KeyValue> stripValues(List<KeyValue> kvs) {
    List<KeyValue> out = new ArrayList<>(kvs.size());
    for (KeyValue kv : kvs) {
      out.add(kv.toBuilder().clearValue().build());
    }
    return out;
  }

  /** Fetches and decodes the key-values at {@code revisions} from {@code view}. */
  static List<KeyValue> fetchFrom(ReadView view, List<Revision> revisions) {
    List<byte[]> keys = new ArrayList<>(revisions.size());
    for (Revision r : revisions) {
      keys.add(r.toKey());
    }
    List<byte[]> raw = view.getAll(Bucket.KEY, keys);
    List<KeyValue> out = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      byte[] v = raw.get(i);
      Invariants.check(v != null, "revision %s is in the index but not in the backend", revisions.get(i));
      out.add(parse(v, revisions.get(i)));
    }
    return out;
  }

  /**
   * The changes of revisions {@code from..to} (inclusive) read back from the backend, for watchers
   * catching up: whole revisions in order, stopping after the revision during which {@code
   * maxEvents} was reached. A deletion comes back as a DELETE event whose key-value has the key and
   * the deleting revision, exactly as live watchers see it.
   *
   * @throws CompactedException if {@code from} is below the compaction revision
   */
  public List<RevisionEvents> history(long from, long to, int maxEvents) {
    checkOpen();
    List<RevisionEvents> out = new ArrayList<>();
    if (from > to) {
      return out;
    }
    try (ReadView view = backend.snapshotView()) {
      // After taking the snapshot: physical deletion only starts once the compaction revision
      // is published, so a revision at or above it is complete in this snapshot.
      checkNotCompacted(from);
      long[] count = {0};
      long[] current = {-1};
      view.scan(
          Bucket.KEY,
          new Revision(from, 0).toKey(),
          new Revision(to + 1, 0).toKey(),
          Long.MAX_VALUE,
          (k, v) -> {
            Revision rev = Revision.fromKey(k);
            if (rev.main() != current[0]) {
              if (count[0] >= maxEvents) {
                return false;
              }
              current[0] = rev.main();
              out.add(new RevisionEvents(rev.main(), new ArrayList<>(4)));
            }
            KeyValue kv = parse(v, rev);
            Event e;
            if (Revision.isTombstoneKey(k)) {
              e = Event.newBuilder().setType(Event.EventType.DELETE)
                  .setKv(KeyValue.newBuilder().setKey(kv.getKey()).setModRevision(rev.main())).build();
            } else {
              e = Event.newBuilder().setType(Event.EventType.PUT).setKv(kv).build();
            }
            out.get(out.size() - 1).events().add(e);
            count[0]++;
            return true;
          });
    }
    return out;
  }

  /**
   * etcd's {@code HashKV}: CRC-32C of the bucket name {@code "key"} followed by every revision key
   * and stored value in revision order up to {@code rev}, leaving out revisions at or below the
   * compaction revision unless a compaction at {@code rev} would keep them (and keeping them all if
   * it would keep nothing, exactly as etcd 3.4 does). Equal histories hash equal on every member
   * and in real etcd.
   *
   * @param rev the revision to hash up to; 0 for the current one
   * @throws CompactedException if {@code 0 < rev <= compaction revision}
   * @throws FutureRevisionException if {@code rev} is above the current revision
   */
  public HashKv hashKv(long rev) {
    checkOpen();
    for (int attempt = 0; attempt < HASH_ATTEMPTS_MAX; attempt++) {
      long c = compactRev;
      long cur = currentRev;
      if (rev > 0 && rev <= c) {
        throw new CompactedException(c);
      }
      if (rev > 0 && rev > cur) {
        throw new FutureRevisionException(cur);
      }
      long upTo = rev == 0 ? cur : rev;
      try (ReadView view = backend.snapshotView()) {
        RevisionSet keep = index.keep(upTo);
        if (compactRev != c) {
          continue; // the index was being compacted while we read it
        }
        CRC32C crc = new CRC32C();
        crc.update(KEY_BUCKET_NAME);
        view.scan(
            Bucket.KEY,
            NO_KEY,
            new Revision(upTo + 1, 0).toKey(),
            Long.MAX_VALUE,
            (k, v) -> {
              Revision r = Revision.fromKey(k);
              if (r.main() <= c && !keep.isEmpty() && !keep.contains(r)) {
                return true; // compacted away, or about to be
              }
              crc.update(k);
              crc.update(v);
              return true;
            });
        return new HashKv(crc.getValue(), cur, c);
      }
    }
    throw new IllegalStateException(
        "mvcc: hash raced with " + HASH_ATTEMPTS_MAX + " compactions in a row");
  }

  /**
   * etcd's {@code Hash}: the checksum of the whole backend ({@link ReadView#hash}) and the store's
   * revision, both taken from one backend snapshot so that the revision is exactly the one the
   * hashed content holds. etcd 3.4 reads its current revision beside the hash instead; reading it
   * from the snapshot (the newest revision key, or a compaction mark above it) gives the same
   * answer when no write is in flight and the right one when a write lands meanwhile. Lock-free
   * like every read: a full scan, so call it from a reader thread.
   */
  public BackendHash hash() {
    checkOpen();
    try (ReadView view = backend.snapshotView()) {
      return new BackendHash(view.hash(), revisionIn(view));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Writes (writer thread only)

  /**
   * Opens the write transaction of the raft entry at {@code ci}. All its changes share one main
   * revision; it is committed by {@link WriteTxn#end}.
   *
   * @throws IllegalStateException if another write transaction or compaction is in progress
   */
  public WriteTxn write(ConsistentIndex ci) {
    checkOpen();
    acquireWriter();
    try {
      if (ci.index() < consistentIndex.index()) {
        throw new IllegalArgumentException(
            "mvcc: consistent index went backwards: " + ci.index() + " < " + consistentIndex.index());
      }
      return new WriteTxn(this, backend, index, currentRev, ci);
    } catch (RuntimeException e) {
      writerBusy.set(false);
      throw e;
    }
  }

  /** Puts one key in a transaction of its own; returns the new revision. */
  public long put(ByteString key, ByteString value, long lease, ConsistentIndex ci) {
    try (WriteTxn txn = write(ci)) {
      txn.put(key, value, lease);
      return txn.end();
    }
  }

  /** Deletes a range in a transaction of its own. */
  public DeleteResult deleteRange(KeyRange range, ConsistentIndex ci) {
    try (WriteTxn txn = write(ci)) {
      long deleted = txn.deleteRange(range).deleted();
      return new DeleteResult(deleted, txn.end());
    }
  }

  /** Told about every committed revision, on the writer thread; must be quick and must not throw. */
  @FunctionalInterface
  public interface RevisionListener {
    /** {@code events} are the revision's changes in order (see {@link WriteTxn#changes}). */
    void committed(long revision, List<Event> events);
  }

  private final List<RevisionListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Adds a listener told about each revision after it is published to readers. */
  public void addListener(RevisionListener l) {
    listeners.add(l);
  }

  /** Called by a write transaction that committed only writes outside the key space. */
  void committedWithoutRevision(ConsistentIndex ci) {
    consistentIndex = ci;
  }

  /** Called by a write transaction that committed its batch. */
  void committed(WriteTxn txn, long newRev, ConsistentIndex ci) {
    Invariants.check(
        currentRev == txn.beginRevision(),
        "revision moved during a write txn: %d != %d",
        currentRev,
        txn.beginRevision());
    Invariants.check(newRev == currentRev + 1, "revision skipped: %d after %d", newRev, currentRev);
    consistentIndex = ci;
    currentRev = newRev;
    List<Event> events = txn.changes();
    for (RevisionListener l : listeners) {
      l.committed(newRev, events);
    }
  }

  /** Called when a write transaction is over, committed or not. */
  void released() {
    writerBusy.set(false);
  }

  /**
   * Compacts the store at {@code rev}: reads below it fail from now on. The index is compacted
   * before this returns; the returned future completes when the obsolete revisions are also gone
   * from the backend (etcd's {@code physical=true}).
   *
   * @throws CompactedException if {@code rev} is at or below the current compaction revision
   * @throws FutureRevisionException if {@code rev} is above the current revision
   */
  public CompletableFuture<Void> compact(long rev, ConsistentIndex ci) {
    checkOpen();
    acquireWriter();
    try {
      long c = compactRev;
      if (rev <= c) {
        throw new CompactedException(c);
      }
      long cur = currentRev;
      if (rev > cur) {
        throw new FutureRevisionException(cur);
      }
      if (ci.index() < consistentIndex.index()) {
        throw new IllegalArgumentException(
            "mvcc: consistent index went backwards: " + ci.index() + " < " + consistentIndex.index());
      }
      try (Batch b = backend.newBatch()) {
        b.put(Bucket.COMPACTION, Schema.compactionScheduledKey(), Schema.longBytes(rev));
        b.setConsistentIndex(ci);
        backend.commit(b);
      }
      consistentIndex = ci;
      // Publish before trimming the index: see the class note.
      compactRev = rev;
      return compactor.enqueue(rev, index.compact(rev)).copy();
    } catch (MvccException | IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      fail(e);
      throw e;
    } finally {
      writerBusy.set(false);
    }
  }

  private void acquireWriter() {
    if (!writerBusy.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "mvcc: a write txn or compaction is already in progress; the store has one writer");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  void checkOpen() {
    Throwable f = failure;
    if (f != null) {
      throw new StoreClosedException(f);
    }
    if (closed) {
      throw new StoreClosedException();
    }
  }

  boolean isClosed() {
    return closed || failure != null;
  }

  /** Stops the store after an error that left it inconsistent with its backend. */
  void fail(Throwable t) {
    if (failure == null) {
      failure = t;
    }
  }

  KvStoreConfig config() {
    return config;
  }

  Index index() {
    return index;
  }

  /**
   * Stops accepting calls, waits for the physical compaction batch in flight (one bounded batch)
   * and abandons the rest (the next open resumes it). Open read transactions stay usable until
   * closed. Does not close the backend; close it afterwards.
   */
  @Override
  public void close() {
    closed = true;
    compactor.stop();
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }
}
