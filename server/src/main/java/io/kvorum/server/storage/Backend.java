package io.kvorum.server.storage;

import io.kvorum.server.clock.Timing;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.server.storage.Schema.Bucket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

/**
 * One member's backend database: RocksDB with a column family per {@link Bucket}.
 *
 * <p><b>Durability.</b> Writes go through RocksDB's own log without an fsync ({@code sync=false}):
 * the raft WAL is what is durable. A power cut may lose a suffix of backend writes (RocksDB recovers
 * a prefix of its log), and the member then re-applies the raft entries after the persisted
 * {@link ConsistentIndex}, which is why every batch that applies an entry carries that index.
 *
 * <p><b>Concurrency.</b> Thread-safe. Any number of threads may read through {@link ReadView}s
 * while others commit batches; no lock is shared between them. A read view sees one point in time
 * (a RocksDB snapshot) until it is closed.
 *
 * <p><b>Lifetime.</b> Every batch and read view pins the database; {@link #close} refuses new work at
 * once but frees the native database only when the last pin is released, so a reader that is still
 * iterating never touches freed memory.
 */
public final class Backend implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Backend.class.getName());
  static {
    RocksDB.loadLibrary();
  }

  private static final String DEFAULT_FAMILY = "default";
  private static final long CLOSED = Long.MIN_VALUE;
  private static final int BLOOM_BITS_PER_KEY = 10;

  private final Path dir;
  private final RocksDB db;
  private final DBOptions dbOptions;
  private final ColumnFamilyOptions familyOptions;
  private final LRUCache blockCache;
  private final BloomFilter bloomFilter;
  private final WriteOptions writeOptions;
  private final ColumnFamilyHandle defaultFamily;
  private final EnumMap<Bucket, ColumnFamilyHandle> families;
  /** Bit 63 set once closed; the low bits count pins (open batches, views and calls in flight). */
  private final AtomicLong state = new AtomicLong();
  private volatile Timing commits = Timing.NONE;

  private Backend(
      Path dir,
      RocksDB db,
      DBOptions dbOptions,
      ColumnFamilyOptions familyOptions,
      LRUCache blockCache,
      BloomFilter bloomFilter,
      ColumnFamilyHandle defaultFamily,
      EnumMap<Bucket, ColumnFamilyHandle> families) {
    this.dir = dir;
    this.db = db;
    this.dbOptions = dbOptions;
    this.familyOptions = familyOptions;
    this.blockCache = blockCache;
    this.bloomFilter = bloomFilter;
    this.defaultFamily = defaultFamily;
    this.families = families;
    this.writeOptions = new WriteOptions().setSync(false);
  }

  /** Opens (creating if missing) the database in {@code dir} with default tuning. */
  public static Backend open(Path dir) {
    return open(dir, BackendConfig.DEFAULT);
  }

  /**
   * Opens (creating if missing) the database in {@code dir}.
   *
   * @throws StorageException if the directory cannot be used, holds a column family this version
   *     does not know, or was written with another {@link Schema#SCHEMA_VERSION}
   */
  public static Backend open(Path dir, BackendConfig config) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new StorageException("storage: cannot create " + dir + ": " + e.getMessage(), e);
    }
    String path = dir.toString();
    boolean exists = Files.exists(dir.resolve("CURRENT"));
    if (exists) {
      checkKnownFamilies(path);
    }
    LRUCache cache = new LRUCache(config.blockCacheBytes());
    BloomFilter bloom = new BloomFilter(BLOOM_BITS_PER_KEY);
    ColumnFamilyOptions familyOptions =
        new ColumnFamilyOptions()
            .setWriteBufferSize(config.writeBufferBytes())
            .setTableFormatConfig(
                new BlockBasedTableConfig()
                    .setBlockCache(cache)
                    .setFilterPolicy(bloom));
    DBOptions dbOptions =
        new DBOptions()
            .setCreateIfMissing(true)
            .setCreateMissingColumnFamilies(true)
            .setInfoLogLevel(InfoLogLevel.WARN_LEVEL)
            // Column families written little (meta, lease, members) would otherwise keep every
            // RocksDB log alive until they fill a memtable, and an open after a crash replays them
            // all: past this size, the families holding the oldest log are flushed.
            .setMaxTotalWalSize(4 * config.writeBufferBytes())
            .setKeepLogFileNum(4)
            // The power-cut emulation: RocksDB keeps its log writes in its own buffer until
            // sync() (or a full buffer, or a memtable flush), so the halt loses them as a power
            // cut loses unsynced pages. Never set in production.
            .setManualWalFlush(Failpoints.setAtStart(Failpoint.RAFT_POWER_CUT));
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions));
    for (Bucket b : Bucket.values()) {
      descriptors.add(new ColumnFamilyDescriptor(b.diskNameBytes(), familyOptions));
    }
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    RocksDB db;
    try {
      db = RocksDB.open(dbOptions, path, descriptors, handles);
    } catch (RocksDBException e) {
      dbOptions.close();
      familyOptions.close();
      cache.close();
      bloom.close();
      throw translate("open " + path, e);
    }
    EnumMap<Bucket, ColumnFamilyHandle> families = new EnumMap<>(Bucket.class);
    for (Bucket b : Bucket.values()) {
      families.put(b, handles.get(1 + b.ordinal()));
    }
    Backend backend = new Backend(dir, db, dbOptions, familyOptions, cache, bloom, handles.get(0), families);
    try {
      backend.checkSchemaVersion();
    } catch (RuntimeException e) {
      backend.close();
      throw e;
    }
    return backend;
  }

  private static void checkKnownFamilies(String path) {
    List<byte[]> names;
    try (Options options = new Options()) {
      names = RocksDB.listColumnFamilies(options, path);
    } catch (RocksDBException e) {
      throw translate("list column families of " + path, e);
    }
    outer:
    for (byte[] name : names) {
      String s = new String(name, StandardCharsets.UTF_8);
      if (s.equals(DEFAULT_FAMILY)) {
        continue;
      }
      for (Bucket b : Bucket.values()) {
        if (b.diskName().equals(s)) {
          continue outer;
        }
      }
      throw new StorageException(
          "storage: " + path + " holds column family \"" + s + "\" unknown to this version");
    }
  }

  private void checkSchemaVersion() {
    byte[] v = get(Bucket.META, Schema.META_SCHEMA_VERSION);
    if (v == null) {
      // A fresh database, or one whose first write was lost with everything after it.
      try (Batch b = newBatch()) {
        b.put(Bucket.META, Schema.META_SCHEMA_VERSION, Schema.longBytes(Schema.SCHEMA_VERSION));
        commit(b);
      }
      return;
    }
    long version = Schema.readLong(v, "schema_version");
    if (version != Schema.SCHEMA_VERSION) {
      throw new StorageException(
          "storage: "
              + dir
              + " has schema version "
              + version
              + ", this version reads "
              + Schema.SCHEMA_VERSION);
    }
  }

  /** The directory this backend lives in. */
  public Path dir() {
    return dir;
  }

  /** A new, empty batch; commit it with {@link #commit} and close it afterwards. */
  public Batch newBatch() {
    pin();
    return new Batch(this);
  }

  /**
   * Applies every operation of {@code batch} atomically: after a crash either all of them are in
   * the database or none is. Not fsynced (see the class note).
   */
  public void commit(Batch batch) {
    if (batch.backend() != this) {
      throw new IllegalArgumentException("storage: batch belongs to another backend");
    }
    pin();
    long start = commits.start();
    try {
      db.write(writeOptions, batch.rocks());
      commits.stop(start);
    } catch (RocksDBException e) {
      throw translate("write batch", e);
    } finally {
      unpin();
    }
  }

  /** Reports the time of every {@link #commit} to {@code commits} (etcd's {@code backend_commit_duration_seconds}). */
  public void observeCommits(Timing commits) {
    this.commits = commits;
  }

  /**
   * Makes every committed batch durable (fsyncs RocksDB's log). Called before the raft log behind
   * a snapshot is released: from then on the backend alone holds those entries' effects.
   */
  public void sync() {
    pin();
    try {
      db.flushWal(true);
    } catch (RocksDBException e) {
      throw translate("sync", e);
    } finally {
      unpin();
    }
  }

  /**
   * Replaces the whole content of every bucket with the SST files a {@link SnapshotLoader} wrote in
   * {@code snapshotDir} (a snapshot installed from the leader). RocksDB takes hard links of the
   * files (no copy), so the directory stays intact until the caller removes it: a crash midway is
   * repaired by running this again on restart. Views opened before keep seeing the old content.
   */
  public void replaceWith(Path snapshotDir) {
    pin();
    try (WriteOptions sync = new WriteOptions().setSync(true)) {
      for (Bucket b : Bucket.values()) {
        ColumnFamilyHandle cf = families.get(b);
        try (org.rocksdb.RocksIterator it = db.newIterator(cf)) {
          it.seekToLast();
          if (it.isValid()) {
            byte[] last = it.key();
            db.deleteRange(cf, sync, new byte[0], java.util.Arrays.copyOf(last, last.length + 1));
          }
        }
        Path bucketDir = snapshotDir.resolve(b.diskName());
        List<String> files = new ArrayList<>();
        if (Files.isDirectory(bucketDir)) {
          // RocksDB moves what it ingests: it gets hard links (no copy), the files stay here.
          Path links = snapshotDir.resolve("ingest-" + b.diskName());
          SnapshotLoader.deleteTree(links);
          Files.createDirectories(links);
          try (java.util.stream.Stream<Path> st = Files.list(bucketDir)) {
            for (Path p : st.filter(p -> p.toString().endsWith(".sst")).sorted().toList()) {
              Path link = links.resolve(p.getFileName());
              Files.createLink(link, p);
              files.add(link.toString());
            }
          }
        }
        if (!files.isEmpty()) {
          try (org.rocksdb.IngestExternalFileOptions io = new org.rocksdb.IngestExternalFileOptions()) {
            io.setMoveFiles(true);
            db.ingestExternalFile(cf, files, io);
          }
        }
      }
    } catch (RocksDBException e) {
      throw translate("install snapshot from " + snapshotDir, e);
    } catch (IOException e) {
      throw new StorageException("storage: cannot read snapshot " + snapshotDir + ": " + e.getMessage(), e);
    } finally {
      unpin();
    }
  }

  /** A point-in-time view: reads see the database as it was now, until the view is closed. */
  public ReadView snapshotView() {
    pin();
    try {
      return ReadView.snapshot(this, db);
    } catch (RuntimeException e) {
      unpin();
      throw e;
    }
  }

  /**
   * A view of the latest committed state: each read sees whatever was committed before it started.
   * For the single writer, which is the only thread whose own writes could change what it reads.
   */
  public ReadView liveView() {
    pin();
    try {
      return ReadView.live(this, db);
    } catch (RuntimeException e) {
      unpin();
      throw e;
    }
  }

  /** The latest committed value of {@code key}, or null. */
  public byte[] get(Bucket bucket, byte[] key) {
    pin();
    try {
      return db.get(handle(bucket), key);
    } catch (RocksDBException e) {
      throw translate("get from " + bucket.diskName(), e);
    } finally {
      unpin();
    }
  }

  /** The persisted consistent index, or {@link ConsistentIndex#ZERO} if none was ever written. */
  public ConsistentIndex consistentIndex() {
    return Schema.readConsistentIndex(get(Bucket.META, Schema.META_CONSISTENT_INDEX), get(Bucket.META, Schema.META_TERM));
  }

  /**
   * Bytes the database occupies: table files plus memtables, summed over all buckets. RocksDB's
   * own log files are not counted.
   */
  public long sizeBytes() {
    pin();
    try {
      long total = 0;
      for (ColumnFamilyHandle h : families.values()) {
        total += db.getLongProperty(h, "rocksdb.total-sst-files-size");
        total += db.getLongProperty(h, "rocksdb.size-all-mem-tables");
      }
      return total;
    } catch (RocksDBException e) {
      throw translate("read size properties", e);
    } finally {
      unpin();
    }
  }

  /**
   * etcd's {@code Defrag}, RocksDB's way: a manual compaction of every bucket down to the bottom
   * level, which drops deleted and overwritten records (compacted revisions, revoked leases) and
   * gives their space back. It runs beside the writers and readers: not exclusive of RocksDB's
   * own compactions, and waiting for a write stall to clear rather than causing one. Blocks the
   * caller until done.
   */
  public void defragment() {
    pin();
    try (CompactRangeOptions options = new CompactRangeOptions()
        .setExclusiveManualCompaction(false)
        .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForceOptimized)
        .setAllowWriteStall(false)) {
      for (ColumnFamilyHandle h : families.values()) {
        db.compactRange(h, null, null, options);
        Failpoints.hit(Failpoint.DEFRAG_MID);
      }
    } catch (RocksDBException e) {
      throw translate("defragment", e);
    } finally {
      unpin();
    }
  }

  /**
   * Refuses new batches, views and calls from now on; the database itself is closed when the last
   * open batch or view is closed (at once if there is none). Idempotent.
   */
  @Override
  public void close() {
    for (; ; ) {
      long s = state.get();
      if (s < 0) {
        return;
      }
      if (state.compareAndSet(s, s | CLOSED)) {
        if (s == 0) {
          release();
        }
        return;
      }
    }
  }

  /** True once {@link #close} was called. */
  public boolean isClosed() {
    return state.get() < 0;
  }

  ColumnFamilyHandle handle(Bucket bucket) {
    return families.get(bucket);
  }

  void pin() {
    for (; ; ) {
      long s = state.get();
      if (s < 0) {
        throw new StorageException("storage: backend " + dir + " is closed");
      }
      if (state.compareAndSet(s, s + 1)) {
        return;
      }
    }
  }

  void unpin() {
    if (state.decrementAndGet() == CLOSED) {
      release();
    }
  }

  private void release() {
    // Memtables written out now, so the next open has no RocksDB log to replay (after a heavy
    // load that replay took 6 s of a restart). A failure here only costs that replay.
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      List<ColumnFamilyHandle> all = new ArrayList<>(families.values());
      all.add(defaultFamily);
      db.flush(flush, all);
    } catch (RocksDBException e) {
      LOG.log(System.Logger.Level.WARNING, "storage: flush before close failed: {0}", e.getMessage());
    }
    writeOptions.close();
    for (ColumnFamilyHandle h : families.values()) {
      h.close();
    }
    defaultFamily.close();
    try {
      db.closeE();
    } catch (RocksDBException e) {
      throw translate("close " + dir, e);
    } finally {
      dbOptions.close();
      familyOptions.close();
      blockCache.close();
      bloomFilter.close();
    }
  }

  static StorageException translate(String what, RocksDBException e) {
    String status = e.getStatus() == null ? "" : " [" + e.getStatus().getCodeString() + "]";
    return new StorageException("storage: " + what + " failed: " + e.getMessage() + status, e);
  }
}
