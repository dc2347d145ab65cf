package io.kvorum.server.wal;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.HardState;
import io.kvorum.raft.MemoryStorage;
import io.kvorum.raft.Snapshot;
import io.kvorum.server.clock.Timing;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * A member's durable raft state: the WAL and the snapshot files on disk, mirrored in a
 * {@link MemoryStorage} that raft reads. Every method is called from the raft loop only.
 *
 * <p>Order of durability: entries and hard state reach the WAL (fsynced when raft says so) before
 * the memory view shows them; a snapshot file is fsynced and recorded in the WAL before the log
 * before it is dropped.
 */
public final class RaftStorage implements Closeable {
  /** Entries kept behind a snapshot so slow followers catch up from the log (etcd's default). */
  public static final long CATCH_UP_ENTRIES = 5000;

  /**
   * How many files to keep (etcd's {@code --max-snapshots} and {@code --max-wals}; 0 keeps all):
   * the newest snapshot files, and WAL segments once a snapshot covers them.
   */
  public record Retention(int snapshotFilesMax, int walFilesMax) {
    /** etcd's defaults: 5 and 5. */
    public static final Retention DEFAULT = new Retention(SnapshotFiles.RETAINED_MAX, SnapshotFiles.RETAINED_MAX);
  }

  private final Wal wal;
  private final SnapshotFiles snapshots;
  private final MemoryStorage memory;
  private final byte[] metadata;
  private final int walFilesMax;

  private RaftStorage(Wal wal, SnapshotFiles snapshots, MemoryStorage memory, byte[] metadata, int walFilesMax) {
    this.wal = wal;
    this.snapshots = snapshots;
    this.memory = memory;
    this.metadata = metadata;
    this.walFilesMax = walFilesMax;
  }

  /** True if {@code walDir} holds WAL segments; a missing directory holds none (and is not created). */
  public static boolean walExists(Path walDir) throws IOException {
    return java.nio.file.Files.isDirectory(walDir) && Wal.exists(new DiskWalFiles(walDir));
  }

  /** Creates the storage of a new member with its WAL in {@code walDir} (etcd's {@code --wal-dir}). */
  public static RaftStorage create(Path walDir, Path memberDir, byte[] metadata, Retention retention)
      throws IOException {
    Wal w = Wal.create(new DiskWalFiles(walDir), metadata);
    return new RaftStorage(w, new SnapshotFiles(memberDir.resolve("snap"), retention.snapshotFilesMax()),
        new MemoryStorage(), metadata, retention.walFilesMax());
  }

  /** Opens an existing member's storage with its WAL in {@code walDir}. */
  public static RaftStorage open(Path walDir, Path memberDir, Retention retention) throws IOException {
    return open(new DiskWalFiles(walDir), new SnapshotFiles(memberDir.resolve("snap"), retention.snapshotFilesMax()),
        retention.walFilesMax());
  }

  /** Creates the storage of a new member. */
  public static RaftStorage create(Path memberDir, byte[] metadata) throws IOException {
    return create(new DiskWalFiles(memberDir.resolve("wal")), memberDir, metadata);
  }

  /** Creates with the WAL on {@code walFiles} (tests put a power-cut fault layer there). */
  public static RaftStorage create(WalFiles walFiles, Path memberDir, byte[] metadata) throws IOException {
    Wal w = Wal.create(walFiles, metadata);
    return new RaftStorage(w, new SnapshotFiles(memberDir.resolve("snap")), new MemoryStorage(), metadata, 1);
  }

  /** Opens an existing member's storage: newest snapshot, then the WAL after it. */
  public static RaftStorage open(Path memberDir) throws IOException {
    return open(new DiskWalFiles(memberDir.resolve("wal")), memberDir);
  }

  /** Opens with the WAL on {@code walFiles}. */
  public static RaftStorage open(WalFiles walFiles, Path memberDir) throws IOException {
    return open(walFiles, new SnapshotFiles(memberDir.resolve("snap")), 1);
  }

  private static RaftStorage open(WalFiles walFiles, SnapshotFiles snaps, int walFilesMax) throws IOException {
    Snapshot snap = snaps.loadNewest();
    Wal.Opened o = Wal.open(walFiles, snap.index(), snap.term());
    MemoryStorage mem = new MemoryStorage();
    if (!snap.isEmpty()) {
      mem.applySnapshot(snap);
    }
    HardState hs = o.recovered().hardState();
    if (!snap.isEmpty() && !hs.isEmpty() && hs.commit() < snap.index()) {
      // Entries are applied (and snapshots taken) once durable, possibly before the hard state
      // recording their commit was written: a snapshot's index is committed by definition.
      hs = new HardState(hs.term(), hs.vote(), snap.index());
    }
    mem.setHardState(hs);
    mem.append(o.recovered().entries());
    return new RaftStorage(o.wal(), snaps, mem, o.recovered().metadata(), walFilesMax);
  }

  /**
   * Bootstraps a new cluster's first configuration: a snapshot at index 1, term 1 holding
   * {@code cs}, so every initial member starts from the same log position and a member added
   * later receives its state by snapshot. The first election then moves to term 2, as in etcd.
   */
  public void bootstrap(ConfState cs, byte[] data) throws IOException {
    bootstrap(cs, 1, 1, new HardState(1, 0, 1), List.of(), data);
  }

  /**
   * Starts a new member's log at a snapshot at {@code index} and {@code term} holding {@code cs},
   * followed by {@code entries} (from {@code index + 1} on, each with its own term) and the hard
   * state {@code hs}: how data migrated from another store begins (its state is the backend's, at
   * that index; the entries are applied when the member starts).
   */
  public void bootstrap(ConfState cs, long index, long term, HardState hs, List<Entry> entries, byte[] data)
      throws IOException {
    long expected = index + 1;
    for (Entry e : entries) {
      if (e.index() != expected++) {
        throw new IllegalArgumentException("entries must follow the snapshot at " + index + " without gaps, got "
            + e.index());
      }
    }
    if (hs.commit() < index) {
      throw new IllegalArgumentException("commit " + hs.commit() + " is before the snapshot at " + index);
    }
    io.kvorum.raft.Snapshot s = new io.kvorum.raft.Snapshot(new io.kvorum.raft.SnapshotMetadata(cs, index, term), data);
    snapshots.save(s);
    wal.saveSnapshot(index, term);
    wal.save(hs, entries, true);
    memory.applySnapshot(s);
    if (!entries.isEmpty()) {
      memory.append(entries);
    }
    memory.setHardState(hs);
  }

  public MemoryStorage memory() {
    return memory;
  }

  /**
   * Reports WAL fsyncs to {@code walFsyncs}, appended WAL bytes to {@code walAppended} and snapshot
   * file fsyncs to {@code snapshotFsyncs}.
   */
  public void observe(Timing walFsyncs, LongConsumer walAppended, Timing snapshotFsyncs) {
    wal.observe(walFsyncs, walAppended);
    snapshots.observe(snapshotFsyncs);
  }

  public byte[] metadata() {
    return metadata;
  }

  /** Persists one Ready's hard state and entries. */
  public void save(HardState hs, List<Entry> entries, boolean sync) throws IOException {
    wal.save(hs, entries, sync);
    if (!entries.isEmpty()) {
      memory.append(entries);
    }
    if (hs != null && !hs.isEmpty()) {
      memory.setHardState(hs);
    }
  }

  /** The WAL's part of an emulated power cut (see {@link Wal#powerCut}). */
  public void powerCut() {
    wal.powerCut();
  }

  /** Persists a snapshot received from the leader and resets the log to it. */
  public void saveReceivedSnapshot(Snapshot s) throws IOException {
    snapshots.save(s);
    wal.saveSnapshot(s.index(), s.term());
    memory.applySnapshot(s);
  }

  /**
   * Records a snapshot the application made at {@code index} (its state must already be durable in
   * the backend), then drops the log before {@code index - CATCH_UP_ENTRIES}.
   */
  public Snapshot createSnapshot(long index, ConfState cs, byte[] data) throws IOException {
    Snapshot s = memory.createSnapshot(index, cs, data);
    snapshots.save(s);
    wal.saveSnapshot(s.index(), s.term());
    long compactTo = index - CATCH_UP_ENTRIES;
    if (compactTo > memory.firstIndex()) {
      memory.compact(compactTo);
    }
    // Segments before the snapshot are not needed to recover: the snapshot plus later entries are.
    wal.releaseTo(index, walFilesMax);
    return s;
  }

  @Override
  public void close() throws IOException {
    wal.close();
  }
}
