package io.kvorum.server.etcddata;

import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.HardState;
import io.kvorum.proto.etcdraftpb.SnapshotMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An etcd 3.4 member's data dir, read as etcd reads it when it starts, and never written.
 *
 * <p>Layout: {@code member/snap/db} (the bbolt key-value backend, read elsewhere),
 * {@code member/snap/*.snap} (raft snapshots holding the v2 membership store) and
 * {@code member/wal/*.wal} (the raft log; {@code --wal-dir} may put it elsewhere). A Kvorum data
 * dir has {@code member/kv} instead, and is refused here.
 *
 * <p>As etcd: the WAL is read first; the snapshot is the newest readable .snap file the WAL
 * recorded at or below its commit index (none is fine: a young member has taken no snapshot yet);
 * the entries are those the WAL holds after that snapshot. The membership as of the commit index is
 * the snapshot's, with every committed conf change, publish and cluster version after it applied
 * as etcd's {@code RaftCluster} applies them.
 */
public final class EtcdDataDir {
  /** Where the pieces of a data dir live, relative to it. */
  static final String MEMBER_DIR = "member";
  static final String SNAP_DIR = "snap";
  static final String WAL_DIR = "wal";
  static final String DB_FILE = "db";
  /** The directory that makes a data dir Kvorum's (its RocksDB backend). */
  static final String KVORUM_KV_DIR = "kv";

  private final Path dbFile;
  private final EtcdWal wal;
  private final SnapshotMetadata snapshot;
  private final Optional<Path> snapFile;
  private final V2Membership snapshotMembership;
  private final List<Entry> committed;
  private final List<Entry> uncommitted;
  private final V2Membership membership;

  private EtcdDataDir(Path dbFile, EtcdWal wal, SnapshotMetadata snapshot, Optional<Path> snapFile,
      V2Membership snapshotMembership, List<Entry> committed, List<Entry> uncommitted, V2Membership membership) {
    this.dbFile = dbFile;
    this.wal = wal;
    this.snapshot = snapshot;
    this.snapFile = snapFile;
    this.snapshotMembership = snapshotMembership;
    this.committed = List.copyOf(committed);
    this.uncommitted = List.copyOf(uncommitted);
    this.membership = membership;
  }

  /** Whether {@code dataDir} looks like an etcd member's: {@code member/snap/db} and a WAL dir. */
  public static boolean isEtcd(Path dataDir, Optional<Path> walDir) {
    Path member = dataDir.resolve(MEMBER_DIR);
    return Files.isRegularFile(member.resolve(SNAP_DIR).resolve(DB_FILE))
        && Files.isDirectory(walDir.orElse(member.resolve(WAL_DIR)))
        && !Files.exists(member.resolve(KVORUM_KV_DIR));
  }

  /** Whether {@code dataDir} is a Kvorum member's ({@code member/kv}). */
  public static boolean isKvorum(Path dataDir) {
    return Files.isDirectory(dataDir.resolve(MEMBER_DIR).resolve(KVORUM_KV_DIR));
  }

  /** Reads the etcd data dir {@code dataDir}, its WAL in {@code walDir} if given. */
  public static EtcdDataDir read(Path dataDir, Optional<Path> walDir) throws EtcdDataException {
    if (isKvorum(dataDir)) {
      throw new EtcdDataException(dataDir + " is a Kvorum data dir (member/kv), not etcd's");
    }
    Path member = dataDir.resolve(MEMBER_DIR);
    Path db = member.resolve(SNAP_DIR).resolve(DB_FILE);
    Path walPath = walDir.orElse(member.resolve(WAL_DIR));
    if (!Files.isRegularFile(db)) {
      throw new EtcdDataException(dataDir + " is not an etcd data dir: no " + MEMBER_DIR + "/" + SNAP_DIR + "/" + DB_FILE);
    }
    if (!Files.isDirectory(walPath)) {
      throw new EtcdDataException(dataDir + " is not an etcd data dir: no WAL directory " + walPath);
    }
    EtcdWal wal = EtcdWal.read(walPath);
    long commit = wal.hardState().getCommit();
    List<EtcdWal.Marker> valid = new ArrayList<>();
    for (EtcdWal.Marker m : wal.snapshots()) {
      if (m.index() <= commit) {
        valid.add(m);
      }
    }
    Optional<EtcdSnapFiles.Loaded> snap = EtcdSnapFiles.newestOf(member.resolve(SNAP_DIR), valid);
    SnapshotMetadata meta = snap.map(s -> s.snapshot().getMetadata()).orElse(SnapshotMetadata.getDefaultInstance());
    V2Membership start = snap.isPresent() ? V2Membership.parse(snap.get().snapshot().getData().toByteArray())
        : V2Membership.empty();
    List<Entry> all = wal.entriesAfter(new EtcdWal.Marker(meta.getIndex(), meta.getTerm()));
    List<Entry> committed = new ArrayList<>();
    List<Entry> uncommitted = new ArrayList<>();
    V2Membership ms = start;
    for (Entry e : all) {
      if (e.getIndex() <= commit) {
        committed.add(e);
        ms = apply(ms, EtcdEntries.decode(e));
      } else {
        uncommitted.add(e);
      }
    }
    return new EtcdDataDir(db, wal, meta, snap.map(EtcdSnapFiles.Loaded::file), start, committed, uncommitted, ms);
  }

  /** The membership after one committed entry, as etcd applies it. */
  public static V2Membership apply(V2Membership ms, EtcdEntries.Payload p) {
    if (p instanceof EtcdEntries.MemberChange c) {
      return switch (c.kind()) {
        case ADD, ADD_LEARNER -> ms.withAdded(c.member().orElseThrow());
        case PROMOTE -> ms.withPromoted(c.memberId());
        case REMOVE -> ms.withRemoved(c.memberId());
        case UPDATE -> ms.withPeerUrls(c.memberId(), c.member().orElseThrow().peerUrls());
      };
    }
    if (p instanceof EtcdEntries.Publish pub) {
      return ms.withAttributes(pub.memberId(), pub.name(), pub.clientUrls());
    }
    if (p instanceof EtcdEntries.ClusterVersion v) {
      return ms.withClusterVersion(v.version());
    }
    return ms;
  }

  /** The bbolt backend file, {@code member/snap/db}. */
  public Path dbFile() {
    return dbFile;
  }

  public long memberId() {
    return wal.memberId();
  }

  public long clusterId() {
    return wal.clusterId();
  }

  public HardState hardState() {
    return wal.hardState();
  }

  /** The WAL as read (files, snapshot records, whether its tail was torn). */
  public EtcdWal wal() {
    return wal;
  }

  /** The raft snapshot's index, term and conf state; index 0 when no snapshot was taken yet. */
  public SnapshotMetadata snapshot() {
    return snapshot;
  }

  /** The .snap file the snapshot came from, if any. */
  public Optional<Path> snapFile() {
    return snapFile;
  }

  /** The membership the snapshot holds (empty without one). */
  public V2Membership snapshotMembership() {
    return snapshotMembership;
  }

  /** The entries after the snapshot up to and including the hard state's commit index. */
  public List<Entry> committedEntries() {
    return committed;
  }

  /** Entries after the commit index: written but not known committed; a migration drops them. */
  public List<Entry> uncommittedEntries() {
    return uncommitted;
  }

  public boolean hasUncommittedEntries() {
    return !uncommitted.isEmpty();
  }

  /** The membership as of the commit index. */
  public V2Membership membership() {
    return membership;
  }
}
