package io.kvorum.server.migrate;

import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfChangeTransition;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.HardState;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.bolt.BoltReader;
import io.kvorum.server.etcddata.EtcdDataDir;
import io.kvorum.server.etcddata.EtcdDataException;
import io.kvorum.server.etcddata.EtcdEntries;
import io.kvorum.server.etcddata.EtcdMember;
import io.kvorum.server.etcddata.V2Membership;
import io.kvorum.server.membership.MemberIds;
import io.kvorum.server.snapshot.SnapshotFile;
import io.kvorum.server.snapshot.SnapshotImporter;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.SnapshotLoader;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Writes a Kvorum member's data (its backend under {@code kv}, its raft log and snapshot) from
 * etcd 3.4's data, without touching that data.
 *
 * <h2>From an etcd member's data dir</h2>
 *
 * <p>etcd's backend database holds the state as of its {@code consistent_index} I, or later: etcd
 * 3.4 records the index only with MVCC writes, so entries after I that change no key (lease grants,
 * auth, alarms) may already be in it, and etcd re-applies them on restart, relying on them being
 * idempotent. A raft snapshot at S is taken only after a backend commit, so the database holds at
 * least S too. The migrated member therefore starts at B = max(I, S): a raft snapshot at B with the
 * membership as of B (the {@code .snap} file's v2 membership, then the conf changes and publishes of
 * the WAL entries up to B: never the database's {@code members} bucket, which {@code etcdctl
 * snapshot restore} leaves holding the old cluster), the database as its backend at consistent
 * index B, and every WAL entry after B — committed or not, each with its own term — translated into
 * Kvorum's entries, which Kvorum applies when the member starts, as etcd would have. The hard state
 * (term, vote, commit) is etcd's. An entry Kvorum cannot take (a v2 request other than a publish or
 * the cluster version) refuses the whole migration, with the reason.
 *
 * <p>For what {@code etcdctl snapshot restore} writes, that is: I = S = commit = the number of
 * members, no entry after it; the member starts at that index with the restored members.
 *
 * <h2>From a snapshot file</h2>
 *
 * <p>As {@code etcdctl snapshot restore} does: the file's SHA-256 is checked, and the members come
 * from the new cluster's {@code --initial-cluster} and token. The member starts as a new Kvorum
 * cluster does (a raft snapshot at index 1, term 1), with the file's data as its backend; every
 * member migrated from the same file starts from the same state.
 */
public final class Migration {
  private Migration() {}

  /** What was written. */
  public record Result(long memberId, long clusterId, ConsistentIndex start, int entriesCarried, long revision,
      long records, int members) {}

  /** Where the Kvorum member's data goes: its member dir (backend, snap) and WAL dir. */
  public record Target(Path memberDir, Path walDir) {
    public static Target of(Path dataDir) {
      Path member = dataDir.resolve("member");
      return new Target(member, member.resolve("wal"));
    }
  }

  /**
   * Migrates etcd's data dir {@code etcdDataDir} (its WAL in {@code etcdWalDir} when etcd ran with
   * {@code --wal-dir}) into {@code target}, which must not hold a member yet.
   */
  public static Result fromDataDir(Path etcdDataDir, Optional<Path> etcdWalDir, Target target, Passwords passwords)
      throws IOException {
    EtcdDataDir d;
    try {
      d = EtcdDataDir.read(etcdDataDir, etcdWalDir);
    } catch (EtcdDataException e) {
      throw new IOException("cannot read etcd data dir " + etcdDataDir + ": " + e.getMessage(), e);
    }
    requireEmpty(target);
    try (BoltReader db = BoltReader.open(d.dbFile())) {
      long snapIndex = d.snapshot().getIndex();
      long base = Math.max(SnapshotImporter.consistentIndex(db), snapIndex);
      long commit = d.hardState().getCommit();
      if (base > commit) {
        throw new IOException("the backend's consistent index " + base + " is after the WAL's commit " + commit
            + ": the data dir is not one member's consistent state");
      }
      long baseTerm = snapIndex == base ? d.snapshot().getTerm() : 0;
      V2Membership members = d.snapshotMembership();
      List<Entry> carried = new ArrayList<>();
      List<io.kvorum.proto.etcdraftpb.Entry> all = new ArrayList<>(d.committedEntries());
      all.addAll(d.uncommittedEntries());
      for (io.kvorum.proto.etcdraftpb.Entry e : all) {
        EtcdEntries.Payload p;
        try {
          p = EtcdEntries.decode(e);
        } catch (EtcdDataException ex) {
          throw new IOException(ex.getMessage(), ex);
        }
        if (e.getIndex() <= base) {
          members = EtcdDataDir.apply(members, p);
          if (e.getIndex() == base) {
            baseTerm = e.getTerm();
          }
          continue;
        }
        carried.add(toKvorum(e, p, passwords));
      }
      if (baseTerm == 0) {
        throw new IOException("the WAL does not hold entry " + base + " (the backend's consistent index) nor a "
            + "snapshot at it: the data dir is incomplete");
      }
      ConsistentIndex start = new ConsistentIndex(base, baseTerm);
      io.kvorum.proto.etcdraftpb.HardState ehs = d.hardState();
      HardState hs = new HardState(ehs.getTerm(), ehs.getVote(), commit);
      return write(db, target, d.memberId(), d.clusterId(), start, hs, carried, record(members));
    }
  }

  /**
   * Migrates the snapshot file {@code file} (what {@code etcdctl snapshot save} wrote) into {@code
   * target} as member {@code name} of the new cluster {@code initialCluster} with {@code token}.
   */
  public static Result fromSnapshotFile(Path file, boolean skipHashCheck, String name,
      Map<String, List<URI>> initialCluster, String token, Target target) throws IOException {
    SnapshotFile.verify(file, skipHashCheck);
    requireEmpty(target);
    Map<Long, EtcdMember> members = new TreeMap<>();
    long self = 0;
    for (Map.Entry<String, List<URI>> e : initialCluster.entrySet()) {
      List<String> urls = e.getValue().stream().map(URI::toString).toList();
      long id = MemberIds.memberId(urls, token);
      members.put(id, new EtcdMember(id, "", urls, List.of(), false));
      if (e.getKey().equals(name)) {
        self = id;
      }
    }
    if (self == 0) {
      throw new IOException("couldn't find local name \"" + name + "\" in the initial cluster configuration");
    }
    long clusterId = MemberIds.clusterId(new ArrayList<>(members.keySet()));
    try (BoltReader db = BoltReader.open(file)) {
      return write(db, target, self, clusterId, new ConsistentIndex(1, 1), new HardState(1, 0, 1), List.of(),
          record(new V2Membership(members, java.util.Set.of(), Optional.empty())));
    }
  }

  private static Result write(BoltReader db, Target target, long memberId, long clusterId, ConsistentIndex start,
      HardState hs, List<Entry> carried, MembershipRecord membership) throws IOException {
    Path sst = target.memberDir().resolve("migrate-sst");
    SnapshotImporter.Read read;
    try (SnapshotLoader loader = new SnapshotLoader(sst)) {
      read = SnapshotImporter.load(db, loader, start, membership);
      loader.finish();
    }
    try (Backend backend = Backend.open(target.memberDir().resolve("kv"))) {
      backend.replaceWith(sst);
      backend.sync();
    }
    SnapshotLoader.deleteTree(sst);
    List<Long> voters = membership.getMembersList().stream().filter(x -> !x.getIsLearner()).map(Member::getID)
        .sorted().toList();
    List<Long> learners = membership.getMembersList().stream().filter(Member::getIsLearner).map(Member::getID)
        .sorted().toList();
    try (RaftStorage storage = RaftStorage.create(target.walDir(), target.memberDir(),
        ByteBuffer.allocate(16).putLong(memberId).putLong(clusterId).array(), RaftStorage.Retention.DEFAULT)) {
      storage.bootstrap(new ConfState(voters, learners, List.of(), List.of(), false), start.index(), start.term(), hs, carried, new byte[0]);
    }
    return new Result(memberId, clusterId, start, carried.size(), read.revision(), read.records(),
        membership.getMembersCount());
  }

  private static void requireEmpty(Target target) throws IOException {
    if (Files.exists(target.memberDir().resolve("kv")) || RaftStorage.walExists(target.walDir())) {
      throw new IOException(target.memberDir() + " already holds a member's data");
    }
  }

  /** An etcd entry after the start, as Kvorum's entry at the same index and term. */
  private static Entry toKvorum(io.kvorum.proto.etcdraftpb.Entry e, EtcdEntries.Payload p, Passwords passwords)
      throws IOException {
    if (p instanceof EtcdEntries.Noop) {
      return new Entry(e.getTerm(), e.getIndex(), EntryType.NORMAL, new byte[0]);
    }
    if (p instanceof EtcdEntries.MemberChange c) {
      io.kvorum.proto.serverpb.MemberChange.Builder ch = io.kvorum.proto.serverpb.MemberChange.newBuilder()
          .setMemberId(c.memberId());
      ConfChangeType type = switch (c.kind()) {
        case ADD -> ConfChangeType.ADD_NODE;
        case ADD_LEARNER -> ConfChangeType.ADD_LEARNER_NODE;
        case PROMOTE -> ConfChangeType.ADD_NODE;
        case REMOVE -> ConfChangeType.REMOVE_NODE;
        case UPDATE -> ConfChangeType.UPDATE_NODE;
      };
      if (c.kind() == EtcdEntries.ChangeKind.PROMOTE) {
        ch.setIsPromote(true);
      } else {
        c.member().ifPresent(m -> ch.addAllPeerUrls(m.peerUrls())
            .setIsLearner(c.kind() == EtcdEntries.ChangeKind.ADD_LEARNER));
      }
      ConfChange cc = new ConfChange(ConfChangeTransition.AUTO, List.of(new ConfChangeSingle(type, c.memberId())),
          ch.build().toByteArray());
      return new Entry(e.getTerm(), e.getIndex(), EntryType.CONF_CHANGE, cc.encode());
    }
    EtcdEntries.Translation t = EtcdEntries.translate(p, passwords);
    if (t instanceof EtcdEntries.Translated ok) {
      return new Entry(e.getTerm(), e.getIndex(), EntryType.NORMAL, ok.request().toByteArray());
    }
    throw new IOException("cannot migrate entry " + e.getIndex() + ": " + ((EtcdEntries.Refused) t).reason());
  }

  /** Kvorum's record of a membership (the carried entries change it when the member applies them). */
  private static MembershipRecord record(V2Membership ms) {
    MembershipRecord.Builder b = MembershipRecord.newBuilder();
    for (EtcdMember m : ms.members().values()) {
      b.addMembers(Member.newBuilder().setID(m.id()).setName(m.name()).addAllPeerURLs(m.peerUrls())
          .addAllClientURLs(m.clientUrls()).setIsLearner(m.isLearner()));
    }
    return b.addAllRemoved(ms.removed()).build();
  }
}
