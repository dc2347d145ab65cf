package io.kvorum.server.etcdserver;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.raft.ConfState;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.MemberIds;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.migrate.InPlace;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.KvStoreConfig;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.transport.PeerSecurity;
import io.kvorum.server.transport.PeerTransport;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a member's data dir, or creates it: decides who the member is (a new cluster's member from
 * {@code --initial-cluster}, a joining member from a peer's view of the cluster, or a restarted
 * member from its WAL metadata), opens the WAL and the backend (finishing a snapshot install a
 * stop interrupted), and loads the MVCC store, the membership and the leases.
 *
 * <p>The data dir: {@code member/wal} (raft log and hard state, with the member and cluster ids
 * as metadata; or the directory {@code --wal-dir} names), {@code member/snap} (raft snapshots, and backends received with one), {@code
 * member/kv} (the RocksDB backend, holding the applied index, the membership and the leases).
 */
final class Bootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(Bootstrap.class);
  /** etcd's words for a member that was removed from the cluster (the process then exits 0). */
  static final String REMOVED = "the member has been permanently removed from the cluster";
  /** How long a joining member asks its peers for the cluster. */
  static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);

  /** A member's opened data. */
  /** What was opened; {@code restarted} when the member's data existed (etcd's {@code memberInitialized}). */
  record Opened(long memberId, RaftStorage storage, Backend backend, KvStore kv, Membership membership,
      Lessor lessor, long appliedIndex, boolean restarted) {}

  private Bootstrap() {}

  static Opened open(ServerConfig cfg, Clock clock) throws IOException {
    Path memberDir = cfg.memberDir();
    Path walDir = cfg.walDirectory();
    RaftStorage.Retention retention = new RaftStorage.Retention(cfg.maxSnapshots, cfg.maxWals);
    checkDedicatedWalDir(cfg);
    // Data etcd 3.4 wrote (etcdctl snapshot restore, or an etcd member's data dir) becomes Kvorum's first.
    InPlace.migrateIfEtcd(cfg.dataDir, java.util.Optional.ofNullable(cfg.walDir),
        () -> new Passwords(EtcdServer.bcryptCost(cfg.bcryptCost)));
    List<Member> initial = new ArrayList<>();
    for (Map.Entry<String, List<URI>> e : cfg.initialCluster.entrySet()) {
      List<String> urls = e.getValue().stream().map(URI::toString).toList();
      initial.add(new Member(MemberIds.memberId(urls, cfg.initialClusterToken), e.getKey(), urls, List.of(), false));
    }
    long memberId;
    long clusterId;
    RaftStorage storage;
    List<Member> joined = null;
    boolean restarted = RaftStorage.walExists(walDir);
    if (!restarted && cfg.initialClusterState == ServerConfig.ClusterState.EXISTING) {
      // Joining a running cluster: learn its id and members from a peer (etcd's
      // GetClusterFromRemotePeers); this member must already have been added with its peer URLs.
      List<URI> peerUrls = new ArrayList<>();
      List<String> self = cfg.selfPeerUrls().stream().map(URI::toString).sorted().toList();
      for (Map.Entry<String, List<URI>> e : cfg.initialCluster.entrySet()) {
        List<String> urls = e.getValue().stream().map(URI::toString).sorted().toList();
        if (!urls.equals(self)) {
          peerUrls.addAll(e.getValue());
        }
      }
      java.util.function.Predicate<Member> isSelf = m -> m.peerUrls().stream().sorted().toList().equals(self);
      PeerTransport.RemoteCluster remote = PeerTransport.fetchCluster(peerUrls,
          PeerSecurity.forMember(cfg.peerTls, cfg.cipherSuites, cfg.dataDir, cfg.listenPeerUrls), JOIN_TIMEOUT, clock,
          rc -> rc.members().stream().anyMatch(isSelf));
      Member me = remote.members().stream().filter(isSelf).reduce((a, b) -> b).orElse(null);
      if (me == null) {
        throw new IOException("error validating peerURLs: member with peer URLs " + self
            + " is not in the cluster; add it first (etcdctl member add)");
      }
      memberId = me.id();
      clusterId = remote.clusterId();
      joined = remote.members();
      storage = RaftStorage.create(walDir, memberDir,
          ByteBuffer.allocate(16).putLong(memberId).putLong(clusterId).array(), retention);
      LOG.info("joining existing cluster {} as member {}", hex(clusterId), hex(memberId));
    } else if (restarted) {
      storage = RaftStorage.open(walDir, memberDir, retention);
      ByteBuffer meta = ByteBuffer.wrap(storage.metadata());
      memberId = meta.getLong();
      clusterId = meta.getLong();
      LOG.info("restarting member {} in cluster {}", hex(memberId), hex(clusterId));
    } else {
      List<String> self = cfg.selfPeerUrls().stream().map(URI::toString).toList();
      memberId = MemberIds.memberId(self, cfg.initialClusterToken);
      clusterId = MemberIds.clusterId(initial.stream().map(Member::id).toList());
      storage = RaftStorage.create(walDir, memberDir,
          ByteBuffer.allocate(16).putLong(memberId).putLong(clusterId).array(), retention);
      long[] voters = initial.stream().mapToLong(Member::id).toArray();
      storage.bootstrap(ConfState.ofVoters(voters), new byte[0]);
      LOG.info("starting member {} in cluster {}", hex(memberId), hex(clusterId));
    }
    Backend backend = Backend.open(memberDir.resolve("kv"));
    long raftSnapIndex = storage.memory().snapshot().index();
    Path received = BackendShipping.dataDir(memberDir, raftSnapIndex);
    if (backend.consistentIndex().index() < raftSnapIndex && Files.isDirectory(received)) {
      // Stopped while installing a snapshot from the leader: install it again.
      LOG.info("installing the backend received with the snapshot at index {}", raftSnapIndex);
      backend.replaceWith(received);
    }
    BackendShipping.removeStale(memberDir, backend.consistentIndex().index());
    KvStore kv = KvStore.open(backend, new KvStoreConfig(cfg.compactionBatchLimit));
    Membership membership = new Membership(clusterId, joined != null ? joined : initial);
    loadMembership(backend, membership);
    if (membership.isRemoved(memberId)) {
      backend.close();
      storage.close();
      throw new IOException(REMOVED);
    }
    if (restarted && cfg.forceNewCluster) {
      try {
        StandaloneRestart.forceOneMember(storage, memberId, clusterId, backend.consistentIndex().index());
      } catch (IOException | RuntimeException e) {
        backend.close();
        storage.close();
        throw e;
      }
    }
    Lessor lessor = new Lessor(Lessor.minTtlSeconds(cfg.electionTicks(), cfg.heartbeatInterval.toMillis()),
        clock::nanos, cfg.enableLeaseCheckpoint ? cfg.leaseCheckpointInterval.toNanos() : 0);
    loadLeases(backend, lessor, kv.restoredLeases());
    kv.addListener((rev, events) -> lessor.onChanges(events));
    long snapIndex = storage.memory().snapshot().index();
    long appliedIndex = backend.consistentIndex().index();
    if (appliedIndex < snapIndex) {
      if (snapIndex > 1) {
        throw new IOException("backend is behind the raft snapshot: applied " + appliedIndex + " < snapshot "
            + snapIndex);
      }
      appliedIndex = snapIndex;
    }
    return new Opened(memberId, storage, backend, kv, membership, lessor, appliedIndex, restarted);
  }

  /**
   * With {@code --wal-dir}, the data dir's own {@code member/wal} must not hold a WAL: etcd would
   * start from the dedicated directory alone (and bootstrap a new log over the old backend when that
   * one is empty), leaving the other log behind; Kvorum refuses to guess which one is the member's.
   */
  static void checkDedicatedWalDir(ServerConfig cfg) throws IOException {
    if (cfg.walDir == null) {
      return;
    }
    Path inDataDir = cfg.memberDir().resolve("wal");
    if (cfg.walDir.toAbsolutePath().normalize().equals(inDataDir.toAbsolutePath().normalize())) {
      return;
    }
    if (RaftStorage.walExists(inDataDir)) {
      throw new IOException("--wal-dir is " + cfg.walDir + " but " + inDataDir + " holds a WAL too: move that WAL to "
          + "--wal-dir (or remove it) before starting with a dedicated WAL directory");
    }
  }

  /**
   * Loads the membership the backend holds. On first start, or on data from before the membership
   * was stored (then with the attributes members published, one key each), it is stored: from
   * here on the data holds the membership and a restart ignores --initial-cluster, as etcd's does.
   */
  private static void loadMembership(Backend backend, Membership membership) throws IOException {
    try (ReadView v = backend.snapshotView()) {
      byte[] record = v.get(Schema.Bucket.META, Schema.membershipKey());
      if (record != null) {
        membership.load(MembershipRecord.parseFrom(record));
        return;
      }
      v.scan(Schema.Bucket.META, Schema.memberKeysFrom(), Schema.memberKeysEnd(), 1024, (k, val) -> {
        try {
          MemberAttributes a = MemberAttributes.parseFrom(val);
          membership.publish(a.getMemberId(), a.getName(), a.getClientUrlsList());
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("corrupt member record " + new String(k, StandardCharsets.US_ASCII), e);
        }
        return true;
      });
    }
    try (Batch b = backend.newBatch()) {
      b.put(Schema.Bucket.META, Schema.membershipKey(), membership.record().toByteArray());
      backend.commit(b);
    }
  }

  /** Loads the stored leases into {@code lessor} and attaches the keys found with a lease. */
  static void loadLeases(Backend backend, Lessor lessor, Map<com.google.protobuf.ByteString, Long> attached) {
    try (ReadView v = backend.snapshotView()) {
      v.scan(Schema.Bucket.LEASE, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        long[] rec = Schema.readLeaseValue(val);
        lessor.restore(Schema.readLong(k, "lease id"), rec[0], rec[1]);
        return true;
      });
    }
    lessor.restoreKeys(attached);
  }

  private static String hex(long id) {
    return Long.toHexString(id);
  }
}
