package io.kvorum.server.etcdserver;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.LeaseCheckpoint;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointRequest;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseLeasesResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseStatus;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.proto.serverpb.MemberChange;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.proto.etcdserverpb.MemberPromoteRequest;
import io.kvorum.proto.etcdserverpb.MemberPromoteResponse;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfChangeTransition;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.StateType;
import io.kvorum.raft.Status;
import io.kvorum.server.apply.KvApplier;
import io.kvorum.server.apply.LeaseApplier;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.MemberIds;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.mvcc.BackendHash;
import io.kvorum.server.mvcc.CompactedException;
import io.kvorum.server.mvcc.FutureRevisionException;
import io.kvorum.server.mvcc.HashKv;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.ReadTxn;
import io.kvorum.server.mvcc.WriteTxn;
import io.kvorum.server.replication.Applier;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.replication.ReplicationException;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.transport.ForwardException;
import io.kvorum.server.transport.PeerSecurity;
import io.kvorum.server.transport.PeerTransport;
import io.kvorum.server.transport.TransportSettings;
import io.kvorum.server.wal.RaftStorage;
import io.kvorum.server.watch.WatchHub;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member: raft loop, WAL, MVCC store and peer transport, and the request paths through them.
 *
 * <p>Writes are proposed as {@link InternalRaftRequest}s with a unique id; the proposing member
 * registers a waiter under that id and answers its client when the apply thread applies the entry.
 * Linearizable reads take a ReadIndex (batched by the raft loop), wait until that index is applied
 * and then read a consistent MVCC snapshot on a reader thread; serializable reads skip the
 * ReadIndex. Reads never touch the apply thread, so a long range never delays a write.
 */
public final class EtcdServer implements Applier, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdServer.class);
  public static final String SERVER_VERSION = "3.4.23";
  public static final String CLUSTER_VERSION = "3.4.0";
  /** etcd adds this to --max-request-bytes for gRPC messages (and watch fragments). */
  public static final long GRPC_OVERHEAD_BYTES = 512 * 1024;
  /** Reader threads serving ranges off the apply path. */
  static final int READ_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

  private final ServerConfig cfg;
  private final long memberId;
  private final Membership membership;
  private final Backend backend;
  private final KvStore kv;
  private final Lessor lessor;
  private final WatchHub watchHub;
  private final KvApplier kvApplier;
  private final LeaseApplier leaseApplier;
  /** Whether the lessor was last promoted (ticker thread only). */
  private boolean leaseLeader;
  /** One batch of expired leases in the log at a time: expiry never floods it. */
  private final AtomicBoolean expiryInFlight = new AtomicBoolean();
  private final RaftLoop loop;
  private final PeerTransport transport;
  private final Waiters waiters = new Waiters();
  private final RequestIds ids;
  private final ScheduledExecutorService ticker;
  private final ExecutorService readers;
  private final Duration requestTimeout;
  private volatile long applied;
  private volatile boolean stopped;
  private final CompletableFuture<Void> published = new CompletableFuture<>();
  /** Completes with the reason when the member stops on its own (removed from the cluster, fatal error). */
  private final CompletableFuture<String> terminated = new CompletableFuture<>();

  private EtcdServer(ServerConfig cfg, long memberId, Membership membership, Backend backend, KvStore kv,
      Lessor lessor, RaftStorage storage, long appliedIndex) {
    this.cfg = cfg;
    this.lessor = lessor;
    this.kvApplier = new KvApplier(lessor::exists);
    this.leaseApplier = new LeaseApplier(lessor, kv);
    this.memberId = memberId;
    this.membership = membership;
    this.backend = backend;
    this.kv = kv;
    this.applied = appliedIndex;
    this.ids = new RequestIds(memberId, System.currentTimeMillis());
    this.requestTimeout = Duration.ofSeconds(5).plus(cfg.electionTimeout.multipliedBy(2));
    // Raft starts from its snapshot (applied = the snapshot index) and hands out every committed
    // entry after it again: the apply loop skips what the backend already holds, but membership
    // changes must reach raft again (its configuration is the snapshot's), as etcd does. The
    // backend may also be ahead of the persisted commit index after a crash (entries are applied
    // once durable locally), which raft must not be told.
    Config rc = Config.defaults(memberId, storage.memory(), new SecureRandom())
        .withTicks(cfg.electionTicks(), 1)
        .withElectionSafety(true, cfg.preVote);
    RawNode node = new RawNode(rc);
    ConfState cs = node.status().config();
    this.transport = new PeerTransport(memberId, membership.clusterId(), m -> loopReceive(m),
        id -> loopCall(n -> n.reportUnreachable(id)), (id, failed) -> loopCall(n -> n.reportSnapshot(id, failed)),
        PeerSecurity.forMember(cfg.peerTls, cfg.cipherSuites, cfg.dataDir, cfg.listenPeerUrls), TransportSettings.defaults());
    this.loop = new RaftLoop(hex(memberId), node, storage, transport, this, cs, cfg.snapshotCount, this::fatal);
    transport.serveForwards(this::serveForward);
    transport.serveSnapshots(s -> BackendShipping.read(backend), m -> BackendShipping.receive(cfg.memberDir(), m));
    transport.handleRemoved(membership::isRemoved, this::removedFromCluster);
    this.watchHub = new WatchHub(kv, this::header, cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES, cfg.nanoClock,
        cfg.watchProgressNotifyInterval.toNanos());
    this.readers = Executors.newFixedThreadPool(READ_THREADS, r -> {
      Thread t = new Thread(r, "kvorum-read");
      t.setDaemon(true);
      return t;
    });
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "kvorum-tick");
      t.setDaemon(true);
      return t;
    });
  }

  // Peer callbacks: the transport exists before the loop, but only delivers once it listens.
  private void loopReceive(io.kvorum.raft.Message m) {
    RaftLoop l = loop;
    if (l != null) {
      l.receive(m);
    }
  }

  private void loopCall(java.util.function.Consumer<RawNode> action) {
    RaftLoop l = loop;
    if (l != null) {
      try {
        l.call(action);
      } catch (ReplicationException e) {
        // A full inbox: the report is advisory.
      }
    }
  }

  /** Opens or creates the member's data and starts serving peers; clients are served by the API edge. */
  public static EtcdServer start(ServerConfig cfg) throws IOException {
    java.nio.file.Path memberDir = cfg.memberDir();
    List<Member> initial = new ArrayList<>();
    for (Map.Entry<String, List<URI>> e : cfg.initialCluster.entrySet()) {
      List<String> urls = e.getValue().stream().map(URI::toString).toList();
      initial.add(new Member(MemberIds.memberId(urls, cfg.initialClusterToken), e.getKey(), urls, List.of(), false));
    }
    long memberId;
    long clusterId;
    RaftStorage storage;
    List<Member> joined = null;
    if (!RaftStorage.exists(memberDir) && cfg.initialClusterState == ServerConfig.ClusterState.EXISTING) {
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
      PeerTransport.RemoteCluster remote = PeerTransport.fetchCluster(peerUrls,
          PeerSecurity.forMember(cfg.peerTls, cfg.cipherSuites, cfg.dataDir, cfg.listenPeerUrls), Duration.ofSeconds(10));
      Member me = null;
      for (Member m : remote.members()) {
        if (m.peerUrls().stream().sorted().toList().equals(self)) {
          me = m;
        }
      }
      if (me == null) {
        throw new IOException("error validating peerURLs: member with peer URLs " + self
            + " is not in the cluster; add it first (etcdctl member add)");
      }
      memberId = me.id();
      clusterId = remote.clusterId();
      joined = remote.members();
      storage = RaftStorage.create(memberDir, ByteBuffer.allocate(16).putLong(memberId).putLong(clusterId).array());
      LOG.info("joining existing cluster {} as member {}", hex(clusterId), hex(memberId));
    } else if (RaftStorage.exists(memberDir)) {
      storage = RaftStorage.open(memberDir);
      ByteBuffer meta = ByteBuffer.wrap(storage.metadata());
      memberId = meta.getLong();
      clusterId = meta.getLong();
      LOG.info("restarting member {} in cluster {}", hex(memberId), hex(clusterId));
    } else {
      List<String> self = cfg.selfPeerUrls().stream().map(URI::toString).toList();
      memberId = MemberIds.memberId(self, cfg.initialClusterToken);
      clusterId = MemberIds.clusterId(initial.stream().map(Member::id).toList());
      storage = RaftStorage.create(memberDir, ByteBuffer.allocate(16).putLong(memberId).putLong(clusterId).array());
      long[] voters = initial.stream().mapToLong(Member::id).toArray();
      storage.bootstrap(ConfState.ofVoters(voters), new byte[0]);
      LOG.info("starting member {} in cluster {}", hex(memberId), hex(clusterId));
    }
    Backend backend = Backend.open(memberDir.resolve("kv"));
    long raftSnapIndex = storage.memory().snapshot().index();
    java.nio.file.Path received = BackendShipping.dataDir(memberDir, raftSnapIndex);
    if (backend.consistentIndex().index() < raftSnapIndex && java.nio.file.Files.isDirectory(received)) {
      // Stopped while installing a snapshot from the leader: install it again.
      LOG.info("installing the backend received with the snapshot at index {}", raftSnapIndex);
      backend.replaceWith(received);
    }
    BackendShipping.removeStale(memberDir, backend.consistentIndex().index());
    KvStore kv = KvStore.open(backend);
    Membership membership = new Membership(clusterId, joined != null ? joined : initial);
    try (ReadView v = backend.snapshotView()) {
      byte[] record = v.get(Schema.Bucket.META, Schema.membershipKey());
      if (record != null) {
        membership.load(MembershipRecord.parseFrom(record));
      } else {
        // First start, or data from before the membership was stored (then with the attributes
        // members published, one key each): from here on the data holds the membership and a
        // restart ignores --initial-cluster, as etcd's does.
        v.scan(Schema.Bucket.META, Schema.memberKeysFrom(), Schema.memberKeysEnd(), 1024, (k, val) -> {
          try {
            MemberAttributes a = MemberAttributes.parseFrom(val);
            membership.publish(a.getMemberId(), a.getName(), a.getClientUrlsList());
          } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("corrupt member record " + new String(k, java.nio.charset.StandardCharsets.US_ASCII), e);
          }
          return true;
        });
        try (Batch b = backend.newBatch()) {
          b.put(Schema.Bucket.META, Schema.membershipKey(), membership.record().toByteArray());
          backend.commit(b);
        }
      }
    }
    if (membership.isRemoved(memberId)) {
      backend.close();
      storage.close();
      throw new IOException(REMOVED);
    }
    Lessor lessor = new Lessor(Lessor.minTtlSeconds(cfg.electionTicks(), cfg.heartbeatInterval.toMillis()),
        cfg.nanoClock, cfg.enableLeaseCheckpoint ? cfg.leaseCheckpointInterval.toNanos() : 0);
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
    EtcdServer s = new EtcdServer(cfg, memberId, membership, backend, kv, lessor, storage, appliedIndex);
    s.connectPeers();
    s.transport.listen(cfg.listenPeerUrls);
    s.watchHub.start();
    s.loop.start();
    // etcd's initial election tick advance: skip most of the first election timeout so a fresh
    // cluster (or a restarted member) elects a leader within a few ticks of starting.
    for (int i = 0; i < cfg.electionTicks() - 1; i++) {
      s.loop.tick();
    }
    long tickMs = cfg.heartbeatInterval.toMillis();
    s.ticker.scheduleAtFixedRate(s::onTick, tickMs, tickMs, TimeUnit.MILLISECONDS);
    return s;
  }

  /**
   * Publishes this member's name and client URLs through the log (retrying until it succeeds);
   * the future completes once this member applied it.
   */
  public CompletableFuture<Void> publish(List<URI> clientUrls) {
    Thread t = new Thread(() -> {
      InternalRaftRequest.Builder req = InternalRaftRequest.newBuilder().setPublish(MemberAttributes.newBuilder()
          .setMemberId(memberId).setName(cfg.name).addAllClientUrls(clientUrls.stream().map(URI::toString).toList()));
      while (!stopped && !published.isDone()) {
        try {
          propose(req.clone()).get(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
          published.complete(null);
        } catch (Exception e) {
          LOG.debug("publish not applied yet: {}", e.toString());
          java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
      }
    }, "kvorum-publish");
    t.setDaemon(true);
    t.start();
    return published;
  }

  // ---------------------------------------------------------------- identity and status

  public long memberId() {
    return memberId;
  }

  public long clusterId() {
    return membership.clusterId();
  }

  public Membership membership() {
    return membership;
  }

  public ServerConfig config() {
    return cfg;
  }

  public Status raftStatus() {
    return loop.status();
  }

  public long leader() {
    return loop.softState().lead();
  }

  public long term() {
    return loop.term();
  }

  /** The index of this member's newest raft snapshot (taken here, or received from the leader). */
  public long snapshotIndex() {
    return loop.snapshotIndex();
  }

  public long dbSizeBytes() {
    return backend.sizeBytes();
  }

  public ResponseHeader header(long revision) {
    return ResponseHeader.newBuilder().setClusterId(membership.clusterId()).setMemberId(memberId)
        .setRevision(revision).setRaftTerm(loop.term()).build();
  }

  public ResponseHeader header() {
    return header(kv.currentRevision());
  }

  // ---------------------------------------------------------------- requests

  public CompletableFuture<RangeResponse> range(RangeRequest r) {
    RequestChecks.range(r);
    Supplier<RangeResponse> read = () -> {
      try (ReadTxn t = kv.read()) {
        RangeResponse resp = KvApplier.range(r, t::range);
        return resp.toBuilder().setHeader(header(t.revision())).build();
      } catch (CompactedException e) {
        throw EtcdError.COMPACTED.exception();
      } catch (FutureRevisionException e) {
        throw EtcdError.FUTURE_REV.exception();
      }
    };
    if (r.getSerializable()) {
      return CompletableFuture.supplyAsync(read, readers);
    }
    return linearizableReadNotify().thenApplyAsync(v -> read.get(), readers);
  }

  public CompletableFuture<PutResponse> put(PutRequest r) {
    RequestChecks.put(r);
    return propose(InternalRaftRequest.newBuilder().setPut(r)).thenApply(o -> (PutResponse) o);
  }

  public CompletableFuture<DeleteRangeResponse> deleteRange(DeleteRangeRequest r) {
    RequestChecks.deleteRange(r);
    return propose(InternalRaftRequest.newBuilder().setDeleteRange(r)).thenApply(o -> (DeleteRangeResponse) o);
  }

  public CompletableFuture<TxnResponse> txn(TxnRequest r) {
    RequestChecks.txn(r, cfg.maxTxnOps);
    // Read-only txns go through the log too: compares and reads then happen at one revision on
    // the apply thread (serving them from a read view is a later optimisation).
    return propose(InternalRaftRequest.newBuilder().setTxn(r)).thenApply(o -> (TxnResponse) o);
  }

  public CompletableFuture<CompactionResponse> compact(CompactionRequest r) {
    return propose(InternalRaftRequest.newBuilder().setCompaction(r)).thenCompose(o -> {
      @SuppressWarnings("unchecked")
      CompletableFuture<CompactionResponse> f = (CompletableFuture<CompactionResponse>) o;
      return f;
    });
  }

  public CompletableFuture<HashKVResponse> hashKv(long revision) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        HashKv h = kv.hashKv(revision);
        return HashKVResponse.newBuilder().setHeader(header(h.revision())).setHash((int) h.hash())
            .setCompactRevision(h.compactRevision()).build();
      } catch (CompactedException e) {
        throw EtcdError.COMPACTED.exception();
      } catch (FutureRevisionException e) {
        throw EtcdError.FUTURE_REV.exception();
      }
    }, readers);
  }

  /**
   * etcd's {@code Hash}: a checksum of the whole backend with the revision of the same snapshot in
   * the header. A full scan, so it runs on a reader thread, never on the raft or apply thread, and
   * writes go on meanwhile.
   */
  public CompletableFuture<HashResponse> hash() {
    return CompletableFuture.supplyAsync(() -> {
      BackendHash h = kv.hash();
      return HashResponse.newBuilder().setHeader(header(h.revision())).setHash((int) h.hash()).build();
    }, readers);
  }

  // ---------------------------------------------------------------- leases

  public CompletableFuture<LeaseGrantResponse> leaseGrant(LeaseGrantRequest r) {
    LeaseGrantRequest.Builder b = r.toBuilder();
    while (b.getID() == 0) {
      // Only positive ids, as etcd chooses them.
      b.setID(ids.next() & Long.MAX_VALUE);
    }
    return propose(InternalRaftRequest.newBuilder().setLeaseGrant(b)).thenApply(o -> (LeaseGrantResponse) o);
  }

  public CompletableFuture<LeaseRevokeResponse> leaseRevoke(LeaseRevokeRequest r) {
    return propose(InternalRaftRequest.newBuilder().setLeaseRevoke(r)).thenApply(o -> (LeaseRevokeResponse) o);
  }

  /** Every lease this member knows (applied state), as etcd lists them locally. */
  public LeaseLeasesResponse leaseLeases() {
    LeaseLeasesResponse.Builder b = LeaseLeasesResponse.newBuilder().setHeader(header());
    for (long id : lessor.ids()) {
      b.addLeases(LeaseStatus.newBuilder().setID(id));
    }
    return b.build();
  }

  /**
   * Renews a lease at the leader (forwarded there from a follower).
   *
   * @return the granted TTL; 0 if the lease does not exist or already expired (etcd's keep-alive
   *     answer for a lost lease)
   */
  public CompletableFuture<LeaseKeepAliveResponse> leaseRenew(long id) {
    LeaseKeepAliveRequest req = LeaseKeepAliveRequest.newBuilder().setID(id).build();
    return atLeader(FORWARD_RENEW, req.toByteArray(), () -> renewHere(id), LeaseKeepAliveResponse::parseFrom)
        .thenApply(r -> r.toBuilder().setHeader(header()).build());
  }

  /** A lease's remaining TTL as the leader sees it; TTL -1 for an unknown lease (etcd 3.4). */
  public CompletableFuture<LeaseTimeToLiveResponse> leaseTimeToLive(LeaseTimeToLiveRequest r) {
    return atLeader(FORWARD_TTL, r.toByteArray(), () -> timeToLiveHere(r), LeaseTimeToLiveResponse::parseFrom)
        .thenApply(resp -> resp.toBuilder().setHeader(header()).build());
  }

  private static final String FORWARD_RENEW = "lease-renew";
  private static final String FORWARD_TTL = "lease-ttl";
  private static final long FORWARD_RETRY_MS = 100;

  /** A forwarded call's answer parser. */
  private interface Parser<T> {
    T parse(byte[] b) throws InvalidProtocolBufferException;
  }

  /** Serves a call on the leader: here if this member leads, else forwarded, retried until the timeout. */
  private <T extends com.google.protobuf.Message> CompletableFuture<T> atLeader(String method, byte[] payload,
      Supplier<CompletableFuture<T>> local, Parser<T> parser) {
    CompletableFuture<T> out = new CompletableFuture<>();
    long deadline = System.nanoTime() + requestTimeout.toNanos();
    attemptAtLeader(method, payload, local, parser, out, deadline);
    return out;
  }

  private <T extends com.google.protobuf.Message> void attemptAtLeader(String method, byte[] payload,
      Supplier<CompletableFuture<T>> local, Parser<T> parser, CompletableFuture<T> out, long deadline) {
    if (stopped) {
      out.completeExceptionally(EtcdError.STOPPED.exception());
      return;
    }
    long lead = leader();
    CompletableFuture<T> attempt;
    if (lead == memberId) {
      try {
        attempt = local.get();
      } catch (RuntimeException e) {
        attempt = CompletableFuture.failedFuture(e);
      }
    } else if (lead == 0) {
      attempt = CompletableFuture.failedFuture(new Lessor.NotPrimaryException());
    } else {
      long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
      attempt = transport.forward(lead, method, payload, left).thenApply(b -> {
        try {
          return parser.parse(b);
        } catch (InvalidProtocolBufferException e) {
          throw new CompletionException(e);
        }
      });
    }
    attempt.whenComplete((v, err) -> {
      if (err == null) {
        out.complete(v);
        return;
      }
      Throwable t = unwrapCompletion(err);
      if (t instanceof ForwardException fe && fe.remote()) {
        EtcdError known = EtcdError.byMessage(fe.getMessage());
        if (known != null) {
          out.completeExceptionally(known.exception());
          return;
        }
      } else if (!(t instanceof ForwardException) && !(t instanceof Lessor.NotPrimaryException)) {
        out.completeExceptionally(unwrap(t));
        return;
      }
      // No leader yet, leadership moved, or the leader was unreachable: try again shortly.
      if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FORWARD_RETRY_MS) >= deadline) {
        out.completeExceptionally(lead == 0 ? EtcdError.NO_LEADER.exception() : EtcdError.TIMEOUT.exception());
        return;
      }
      try {
        ticker.schedule(() -> attemptAtLeader(method, payload, local, parser, out, deadline), FORWARD_RETRY_MS,
            TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        out.completeExceptionally(EtcdError.STOPPED.exception());
      }
    });
  }

  private static Throwable unwrapCompletion(Throwable err) {
    Throwable t = err;
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Serves requests other members forward to this one (it is, or was, the leader). */
  private CompletableFuture<byte[]> serveForward(String method, byte[] payload) {
    try {
      switch (method) {
        case FORWARD_RENEW -> {
          long id = LeaseKeepAliveRequest.parseFrom(payload).getID();
          return renewHere(id).thenApply(r -> r.toByteArray());
        }
        case FORWARD_TTL -> {
          return timeToLiveHere(LeaseTimeToLiveRequest.parseFrom(payload)).thenApply(r -> r.toByteArray());
        }
        case PeerTransport.MEMBERS_METHOD -> {
          io.kvorum.proto.raftpb.MembersResponse.Builder b = io.kvorum.proto.raftpb.MembersResponse.newBuilder()
              .setClusterId(membership.clusterId());
          for (Member m : membership.list()) {
            b.addMembers(io.kvorum.proto.raftpb.MemberInfo.newBuilder().setId(m.id()).setName(m.name())
                .addAllPeerUrls(m.peerUrls()).setIsLearner(m.isLearner()));
          }
          return CompletableFuture.completedFuture(b.build().toByteArray());
        }
        case FORWARD_PROMOTE -> {
          long id = MemberPromoteRequest.parseFrom(payload).getID();
          return promoteHere(id).thenApply(m -> promoteResponse(m).toByteArray());
        }
        default -> {
          return CompletableFuture.failedFuture(new IllegalArgumentException("unknown forwarded method " + method));
        }
      }
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Renews at this member, which must be the leader; a lease granted but not yet applied is waited for. */
  private CompletableFuture<LeaseKeepAliveResponse> renewHere(long id) {
    Supplier<LeaseKeepAliveResponse> renew = () -> {
      Lessor.Renewal r = lessor.renew(id);
      if (r != null && r.clearCheckpoint()) {
        proposeCheckpoints(List.of(new long[] {id, 0}));
      }
      return LeaseKeepAliveResponse.newBuilder().setID(id).setTTL(r == null ? 0 : r.ttl()).build();
    };
    return whenGrantApplied(id, renew);
  }

  /**
   * Runs {@code call} now, or, on the leader, once everything committed is applied if lease {@code
   * id} is unknown here yet (a grant proposed through a follower may still be on its way).
   */
  private <T> CompletableFuture<T> whenGrantApplied(long id, Supplier<T> call) {
    if (lessor.exists(id) || !lessor.isPrimary()) {
      return CompletableFuture.completedFuture(call.get());
    }
    return loop.waitApplied(loop.status().hardState().commit()).thenApply(v -> call.get());
  }

  private CompletableFuture<LeaseTimeToLiveResponse> timeToLiveHere(LeaseTimeToLiveRequest req) {
    Supplier<LeaseTimeToLiveResponse> ttl = () -> {
      Lessor.TimeToLive t = lessor.timeToLive(req.getID(), req.getKeys());
      if (t == null) {
        return LeaseTimeToLiveResponse.newBuilder().setID(req.getID()).setTTL(-1).build();
      }
      return LeaseTimeToLiveResponse.newBuilder().setID(t.id()).setTTL(t.remainingSeconds())
          .setGrantedTTL(t.grantedTtl()).addAllKeys(t.keys()).build();
    };
    return whenGrantApplied(req.getID(), ttl);
  }

  private void proposeCheckpoints(List<long[]> cps) {
    LeaseCheckpointRequest.Builder b = LeaseCheckpointRequest.newBuilder();
    for (long[] c : cps) {
      b.addCheckpoints(LeaseCheckpoint.newBuilder().setID(c[0]).setRemainingTTL(c[1]));
    }
    propose(InternalRaftRequest.newBuilder().setLeaseCheckpoint(b)).whenComplete((v, err) -> {
      if (err != null) {
        LOG.debug("lease checkpoint not applied: {}", err.toString());
      }
    });
  }

  /** Leases revoked per log entry when they expire. */
  static final int EXPIRE_BATCH_MAX = 250;
  /** Checkpoints per log entry, as etcd batches them. */
  static final int CHECKPOINT_BATCH_MAX = 1000;

  /** Every heartbeat tick: the raft clock, then the leader's lease duties. */
  private void onTick() {
    loop.tick();
    safely("lease tick", this::leaseTick);
  }

  /** Runs a ticker task; an exception is logged, never let out (it would cancel the ticker). */
  private static void safely(String what, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.warn("{} failed: {}", what, e.toString(), e);
    }
  }

  private void leaseTick() {
    boolean lead = loop.softState().raftState() == StateType.LEADER;
    if (lead != leaseLeader) {
      leaseLeader = lead;
      if (lead) {
        // etcd extends every lease by an election timeout on a leader change.
        lessor.promote(cfg.electionTimeout.toNanos());
      } else {
        lessor.demote();
      }
    }
    if (!lead) {
      return;
    }
    expireLeases();
    List<long[]> cps = lessor.dueCheckpoints(CHECKPOINT_BATCH_MAX);
    if (!cps.isEmpty()) {
      proposeCheckpoints(cps);
    }
  }

  /** Proposes the next batch of expired leases unless one is still on its way through the log. */
  private void expireLeases() {
    if (stopped || !expiryInFlight.compareAndSet(false, true)) {
      return;
    }
    List<Long> expired = lessor.expired(EXPIRE_BATCH_MAX);
    if (expired.isEmpty()) {
      expiryInFlight.set(false);
      return;
    }
    propose(InternalRaftRequest.newBuilder().setLeaseExpire(LeaseExpire.newBuilder().addAllIds(expired)))
        .whenComplete((v, err) -> {
          expiryInFlight.set(false);
          if (err == null) {
            // More may be waiting: the next batch goes as soon as this one is applied.
            try {
              ticker.execute(() -> safely("lease expiry", () -> {
                if (leaseLeader) {
                  expireLeases();
                }
              }));
            } catch (java.util.concurrent.RejectedExecutionException e) {
              // stopping
            }
          }
        });
  }

  /**
   * Runs the leader's lease duties (promotion, expiry, checkpoints) now on the ticker thread, as
   * a tick would: tests advance a fake clock and then call this instead of waiting for a tick.
   */
  public CompletableFuture<Void> leaseDutiesNow() {
    return CompletableFuture.runAsync(() -> safely("lease tick", this::leaseTick), ticker);
  }

  // ---------------------------------------------------------------- membership

  /** How long peers must have been connected for a strict reconfiguration check (etcd's HealthInterval). */
  static final Duration HEALTH_INTERVAL = Duration.ofSeconds(5);
  /** A learner may be promoted once its log reaches this share of the leader's (etcd's readyPercent). */
  static final double LEARNER_READY_PERCENT = 0.9;
  private static final String FORWARD_PROMOTE = "member-promote";

  /** The added member and the membership after the change. */
  public record MemberAdded(Member member, List<Member> members) {}

  /**
   * etcd's MemberAdd: the member is part of the configuration once the change is applied and may
   * start later with {@code --initial-cluster-state existing}. Its id hashes its peer URLs and the
   * current Unix time, as etcd's does.
   */
  public CompletableFuture<MemberAdded> memberAdd(List<String> peerUrls, boolean learner) {
    List<String> urls = PeerUrls.check(peerUrls);
    if (urls == null) {
      return CompletableFuture.failedFuture(EtcdError.MEMBER_BAD_U_R_LS.exception());
    }
    urls.sort(null); // etcd keeps a new member's URLs sorted
    if (cfg.strictReconfigCheck) {
      if (!learner && !readyToAddVoter()) {
        LOG.warn("rejecting member add request; not enough healthy members");
        return CompletableFuture.failedFuture(EtcdError.MEMBER_NOT_ENOUGH_STARTED.exception());
      }
      List<Long> voters = membership.voters().stream().map(Member::id).toList();
      if (connectedSince(voters) < voters.size()) {
        LOG.warn("rejecting member add request; local member has not been connected to all peers, "
            + "reconfigure breaks active quorum");
        return CompletableFuture.failedFuture(EtcdError.UNHEALTHY.exception());
      }
    }
    long id = MemberIds.memberId(urls, "", System.currentTimeMillis() / 1000);
    MemberChange.Builder ch = MemberChange.newBuilder().setMemberId(id).addAllPeerUrls(urls).setIsLearner(learner);
    return configure(learner ? ConfChangeType.ADD_LEARNER_NODE : ConfChangeType.ADD_NODE, id, ch)
        .thenApply(list -> new MemberAdded(new Member(id, "", urls, List.of(), learner), list));
  }

  /** etcd's MemberRemove; removing this member (or the leader) stops it once applied. */
  public CompletableFuture<List<Member>> memberRemove(long id) {
    if (cfg.strictReconfigCheck) {
      Member m = membership.get(id);
      if (m == null || !m.isLearner()) {
        List<Member> voters = membership.voters();
        long others = voters.stream().filter(v -> v.id() != id).count();
        long othersStarted = voters.stream().filter(v -> v.id() != id && isStarted(v)).count();
        if (!quorumStarted(others, othersStarted)) {
          LOG.warn("rejecting member remove request; not enough healthy members");
          return CompletableFuture.failedFuture(EtcdError.MEMBER_NOT_ENOUGH_STARTED.exception());
        }
        // A member that is down is not part of the active quorum: removing it is always safe.
        if (id == memberId || transport.activeSince(id).isPresent()) {
          int active = connectedSince(voters.stream().map(Member::id).toList());
          if (active - 1 < 1 + (voters.size() - 1) / 2) {
            LOG.warn("rejecting member remove request; local member has not been connected to all peers, "
                + "reconfigure breaks active quorum");
            return CompletableFuture.failedFuture(EtcdError.UNHEALTHY.exception());
          }
        }
      }
    }
    return configure(ConfChangeType.REMOVE_NODE, id, MemberChange.newBuilder().setMemberId(id));
  }

  /** etcd's MemberUpdate: new peer URLs; every member's transport reconnects to them. */
  public CompletableFuture<List<Member>> memberUpdate(long id, List<String> peerUrls) {
    // etcd 3.4 takes the URLs of an update unchecked and in the order given, and every member
    // panics applying one it cannot parse; Kvorum refuses those (a documented difference).
    List<String> urls = PeerUrls.check(peerUrls);
    if (urls == null) {
      return CompletableFuture.failedFuture(EtcdError.MEMBER_BAD_U_R_LS.exception());
    }
    return configure(ConfChangeType.UPDATE_NODE, id, MemberChange.newBuilder().setMemberId(id).addAllPeerUrls(urls));
  }

  /**
   * etcd's MemberPromote: only the leader knows whether the learner caught up, so a follower
   * forwards the request to it.
   */
  public CompletableFuture<List<Member>> memberPromote(long id) {
    byte[] payload = MemberPromoteRequest.newBuilder().setID(id).build().toByteArray();
    return atLeader(FORWARD_PROMOTE, payload, () -> promoteHere(id).thenApply(this::promoteResponse),
        MemberPromoteResponse::parseFrom).thenApply(r -> r.getMembersList().stream().map(Member::fromProto).toList());
  }

  private MemberPromoteResponse promoteResponse(List<Member> members) {
    MemberPromoteResponse.Builder b = MemberPromoteResponse.newBuilder();
    members.forEach(m -> b.addMembers(m.toProto()));
    return b.build();
  }

  private CompletableFuture<List<Member>> promoteHere(long id) {
    Status st = loop.status();
    if (leader() != memberId || st.progress() == null || st.progress().isEmpty()) {
      return CompletableFuture.failedFuture(new Lessor.NotPrimaryException());
    }
    Status.ProgressStatus learner = st.progress().get(id);
    Status.ProgressStatus self = st.progress().get(memberId);
    if (learner != null && self != null && learner.match() < self.match() * LEARNER_READY_PERCENT) {
      return CompletableFuture.failedFuture(EtcdError.LEARNER_NOT_READY.exception());
    }
    if (cfg.strictReconfigCheck) {
      // The learner counts as a started voter of the configuration it joins.
      List<Member> voters = membership.voters();
      if (!quorumStarted(voters.size() + 1, voters.stream().filter(EtcdServer::isStarted).count() + 1)) {
        return CompletableFuture.failedFuture(EtcdError.MEMBER_NOT_ENOUGH_STARTED.exception());
      }
    }
    return configure(ConfChangeType.ADD_NODE, id, MemberChange.newBuilder().setMemberId(id).setIsPromote(true));
  }

  /** etcd counts a member as started once it has a name (bootstrapped, or published). */
  private static boolean isStarted(Member m) {
    return !m.name().isEmpty();
  }

  private boolean readyToAddVoter() {
    List<Member> voters = membership.voters();
    long n = voters.size() + 1;
    long started = voters.stream().filter(EtcdServer::isStarted).count();
    // Adding a second member to a one-member cluster is allowed (etcd: a restore case).
    return (started == 1 && n == 2) || quorumStarted(n, started);
  }

  /** Whether {@code started} of {@code members} voters make a quorum. */
  private static boolean quorumStarted(long members, long started) {
    return started >= members / 2 + 1;
  }

  /** Members of {@code ids} this member counts as connected for {@link #HEALTH_INTERVAL}, itself included. */
  private int connectedSince(List<Long> ids) {
    long cutoff = System.nanoTime() - HEALTH_INTERVAL.toNanos();
    int n = 0;
    for (long id : ids) {
      if (id == memberId) {
        n++;
      } else {
        java.util.OptionalLong since = transport.activeSince(id);
        if (since.isPresent() && since.getAsLong() - cutoff <= 0) {
          n++;
        }
      }
    }
    return n;
  }

  /** Proposes a membership change and completes with the membership once it is applied here. */
  private CompletableFuture<List<Member>> configure(ConfChangeType type, long id, MemberChange.Builder ch) {
    if (stopped) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    long rid = ids.next();
    ConfChange cc = new ConfChange(ConfChangeTransition.AUTO, List.of(new ConfChangeSingle(type, id)),
        ch.setRequestId(rid).build().toByteArray());
    CompletableFuture<Object> f = waiters.register(rid);
    loop.proposeConfChange(cc).whenComplete((v, err) -> {
      if (err != null) {
        waiters.fail(rid, err);
      }
    });
    return withTimeout(f).whenComplete((v, err) -> waiters.cancel(rid)).thenApply(o -> {
      @SuppressWarnings("unchecked")
      List<Member> members = (List<Member>) o;
      return members;
    });
  }

  // ---------------------------------------------------------------- leadership

  /**
   * etcd's MoveLeader: this member, which must be the leader, hands leadership to voter {@code
   * transferee} and completes once that member leads (at once if it already does).
   */
  public CompletableFuture<Void> moveLeader(long transferee) {
    if (leader() != memberId) {
      return CompletableFuture.failedFuture(EtcdError.NOT_LEADER.exception());
    }
    if (!loop.status().config().voters().contains(transferee)) {
      return CompletableFuture.failedFuture(EtcdError.BAD_LEADER_TRANSFEREE.exception());
    }
    LOG.info("leadership transfer starting from {} to {}", hex(memberId), hex(transferee));
    long start = System.nanoTime();
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      loop.call(n -> n.transferLeader(transferee));
    } catch (ReplicationException e) {
      return CompletableFuture.failedFuture(unwrap(e));
    }
    long deadline = start + requestTimeout.toNanos();
    long every = cfg.heartbeatInterval.toMillis();
    java.util.concurrent.ScheduledFuture<?> poll = ticker.scheduleWithFixedDelay(() -> {
      if (leader() == transferee) {
        LOG.info("leadership transfer finished from {} to {} (took {} ms)", hex(memberId), hex(transferee),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        done.complete(null);
      } else if (System.nanoTime() > deadline || stopped) {
        done.completeExceptionally(EtcdError.TIMEOUT_LEADER_TRANSFER.exception());
      }
    }, 0, every, TimeUnit.MILLISECONDS);
    done.whenComplete((v, err) -> poll.cancel(false));
    return done;
  }

  /**
   * Before stopping, a leader of several voters hands leadership to the voter most caught up (etcd's
   * {@code TransferLeadership}), so the cluster does not wait an election timeout for a new one.
   */
  private void transferLeadershipBeforeStop() {
    if (leader() != memberId) {
      return;
    }
    Status st = loop.status();
    long best = 0;
    long bestMatch = -1;
    for (long v : st.config().voters()) {
      Status.ProgressStatus p = st.progress().get(v);
      // The most caught-up voter (etcd picks the longest-connected one); recent activity is
      // reset every election timeout under check-quorum, so it is no filter here.
      if (v != memberId && p != null && p.match() > bestMatch) {
        best = v;
        bestMatch = p.match();
      }
    }
    if (best == 0) {
      return;
    }
    try {
      moveLeader(best).get(Math.min(requestTimeout.toMillis(), cfg.electionTimeout.toMillis() * 3),
          TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("leadership transfer before stopping did not finish: {}", e.toString());
    }
  }

  /** The member's watchers. */
  public WatchHub watchHub() {
    return watchHub;
  }

  /** The lessor, for tests and tools. */
  public Lessor lessor() {
    return lessor;
  }

  /** Completes when this member has applied everything committed before the call. */
  public CompletableFuture<Void> linearizableReadNotify() {
    return withTimeout(loop.readIndex().thenCompose(loop::waitApplied));
  }

  private CompletableFuture<Object> propose(InternalRaftRequest.Builder req) {
    if (stopped) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    long id = ids.next();
    byte[] data = req.setHeader(RequestHeader.newBuilder().setId(id)).build().toByteArray();
    if (data.length > cfg.maxRequestBytes) {
      return CompletableFuture.failedFuture(EtcdError.REQUEST_TOO_LARGE.exception());
    }
    CompletableFuture<Object> f = waiters.register(id);
    loop.propose(data).whenComplete((v, err) -> {
      if (err != null) {
        waiters.fail(id, err);
      }
    });
    return withTimeout(f).whenComplete((v, err) -> waiters.cancel(id));
  }

  private <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f) {
    return f.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((v, err) -> {
          if (err == null) {
            return CompletableFuture.completedFuture(v);
          }
          return CompletableFuture.<T>failedFuture(unwrap(err));
        }).thenCompose(x -> x);
  }

  /** Maps internal failures to etcd's client errors. */
  static RuntimeException unwrap(Throwable err) {
    Throwable t = unwrapCompletion(err);
    if (t instanceof EtcdException e) {
      return e;
    }
    if (t instanceof TimeoutException) {
      return EtcdError.TIMEOUT.exception();
    }
    if (t instanceof ReplicationException r) {
      return switch (r.kind()) {
        case NO_LEADER -> EtcdError.NO_LEADER.exception();
        case TOO_MANY_REQUESTS -> EtcdError.REQUEST_TOO_MANY_REQUESTS.exception();
        case DROPPED -> EtcdError.TIMEOUT.exception();
        case LEADER_CHANGED -> EtcdError.LEADER_CHANGED.exception();
        case STOPPED -> EtcdError.STOPPED.exception();
      };
    }
    if (t instanceof RuntimeException re) {
      return re;
    }
    return new IllegalStateException(t);
  }

  // ---------------------------------------------------------------- apply (apply thread)

  @Override
  public void apply(List<Entry> entries) {
    for (Entry e : entries) {
      if (e.type() == EntryType.NORMAL && e.data().length > 0) {
        applyRequest(e);
      }
      applied = e.index();
    }
  }

  private void applyRequest(Entry e) {
    InternalRaftRequest req;
    try {
      req = InternalRaftRequest.parseFrom(e.data());
    } catch (InvalidProtocolBufferException ex) {
      // Every member fails the same way on the same bytes; nothing to apply.
      LOG.warn("skipping undecodable entry {}", e.index());
      return;
    }
    long id = req.getHeader().getId();
    ConsistentIndex ci = new ConsistentIndex(e.index(), e.term());
    Object result;
    try {
      result = switch (req.getRequestCase()) {
        case PUT -> {
          try (WriteTxn w = kv.write(ci)) {
            PutResponse r = kvApplier.put(w, req.getPut());
            yield r.toBuilder().setHeader(header(w.end())).build();
          }
        }
        case DELETE_RANGE -> {
          try (WriteTxn w = kv.write(ci)) {
            DeleteRangeResponse r = kvApplier.deleteRange(w, req.getDeleteRange());
            yield r.toBuilder().setHeader(header(w.end())).build();
          }
        }
        case TXN -> {
          try (WriteTxn w = kv.write(ci)) {
            TxnResponse r = kvApplier.txn(w, req.getTxn());
            yield r.toBuilder().setHeader(header(w.end())).build();
          }
        }
        case COMPACTION -> {
          CompactionRequest c = req.getCompaction();
          CompletableFuture<Void> physical = kv.compact(c.getRevision(), ci);
          CompactionResponse resp = CompactionResponse.newBuilder().setHeader(header()).build();
          yield c.getPhysical() ? physical.thenApply(v -> resp) : CompletableFuture.completedFuture(resp);
        }
        case LEASE_GRANT -> {
          LeaseGrantRequest g = req.getLeaseGrant();
          long ttl = leaseApplier.grant(g, ci);
          yield LeaseGrantResponse.newBuilder().setHeader(header()).setID(g.getID()).setTTL(ttl).build();
        }
        case LEASE_REVOKE -> {
          long rev = leaseApplier.revoke(List.of(req.getLeaseRevoke().getID()), ci, true);
          yield LeaseRevokeResponse.newBuilder().setHeader(header(rev)).build();
        }
        case LEASE_EXPIRE -> {
          leaseApplier.revoke(req.getLeaseExpire().getIdsList(), ci, false);
          yield Boolean.TRUE;
        }
        case LEASE_CHECKPOINT -> {
          leaseApplier.checkpoint(req.getLeaseCheckpoint(), ci);
          yield LeaseCheckpointResponse.newBuilder().setHeader(header()).build();
        }
        case PUBLISH -> {
          MemberAttributes a = req.getPublish();
          membership.publish(a.getMemberId(), a.getName(), a.getClientUrlsList());
          // Persisted with the consistent index: a restarted member does not re-apply it.
          saveMembership(ci);
          yield Boolean.TRUE;
        }
        default -> Boolean.TRUE;
      };
    } catch (CompactedException ex) {
      result = EtcdError.COMPACTED.exception();
    } catch (FutureRevisionException ex) {
      result = EtcdError.FUTURE_REV.exception();
    } catch (EtcdException ex) {
      result = ex;
    }
    if (result instanceof EtcdException ex) {
      waiters.fail(id, ex);
    } else {
      waiters.complete(id, result);
    }
  }

  /** Stores the whole membership in the batch of entry {@code ci}. */
  private void saveMembership(ConsistentIndex ci) {
    try (Batch b = backend.newBatch()) {
      b.put(Schema.Bucket.META, Schema.membershipKey(), membership.record().toByteArray());
      b.setConsistentIndex(ci);
      backend.commit(b);
    }
  }

  @Override
  public ConfChange applyConfChange(Entry e, ConfChange cc) {
    ConfChangeSingle single = cc.changes().size() == 1 ? cc.changes().get(0) : null;
    if (single == null) {
      // Kvorum proposes single changes only; anything else is applied as raft decides.
      applied = Math.max(applied, e.index());
      return cc;
    }
    ConfChange noop = ConfChange.of(single.type(), 0);
    if (e.index() <= applied) {
      // Replayed after a restart: the state machine holds it; raft needs the same decision again.
      return membership.wasRefused(e.index()) ? noop : cc;
    }
    MemberChange ch;
    try {
      ch = MemberChange.parseFrom(cc.context());
    } catch (InvalidProtocolBufferException ex) {
      ch = null;
    }
    long id = single.nodeId();
    Membership.Kind kind = switch (single.type()) {
      case ADD_NODE -> ch != null && ch.getIsPromote() ? Membership.Kind.PROMOTE : Membership.Kind.ADD;
      case ADD_LEARNER_NODE -> Membership.Kind.ADD;
      case REMOVE_NODE -> Membership.Kind.REMOVE;
      case UPDATE_NODE -> Membership.Kind.UPDATE;
    };
    boolean learner = single.type() == ConfChangeType.ADD_LEARNER_NODE;
    List<String> urls = ch == null ? List.of() : ch.getPeerUrlsList();
    Membership.Refusal refusal;
    if (ch == null || ch.getMemberId() != id || id == 0) {
      refusal = Membership.Refusal.NOT_FOUND;
    } else {
      refusal = membership.check(kind, id, urls, learner);
    }
    ConsistentIndex ci = new ConsistentIndex(e.index(), e.term());
    if (refusal != null) {
      membership.refused(e.index());
      saveMembership(ci);
      applied = e.index();
      if (ch != null) {
        waiters.fail(ch.getRequestId(), refusalError(refusal).exception());
      }
      return noop;
    }
    membership.apply(kind, id, urls, learner);
    saveMembership(ci);
    applied = e.index();
    LOG.info("applied a configuration change through raft: {} {} (index {})", single.type(), hex(id), e.index());
    peerChange(kind, id, urls);
    waiters.complete(ch.getRequestId(), membership.list());
    return cc;
  }

  /** The transport follows the membership; this member stops once it is removed. */
  private void peerChange(Membership.Kind kind, long id, List<String> urls) {
    if (id == memberId) {
      if (kind == Membership.Kind.REMOVE) {
        removedFromCluster();
      }
      return;
    }
    try {
      switch (kind) {
        case ADD, UPDATE -> transport.addPeer(id, urls.stream().map(URI::create).toList());
        case REMOVE -> {
          // Stopping a sender waits for its thread: not on the apply thread.
          Thread t = new Thread(() -> transport.removePeer(id), "kvorum-remove-peer");
          t.setDaemon(true);
          t.start();
        }
        default -> { }
      }
    } catch (RuntimeException ex) {
      LOG.warn("cannot reach member {} at {}: {}", hex(id), urls, ex.toString());
    }
  }

  private static EtcdError refusalError(Membership.Refusal r) {
    return switch (r) {
      case NOT_FOUND -> EtcdError.MEMBER_NOT_FOUND;
      case EXISTS -> EtcdError.MEMBER_EXIST;
      case PEER_URL_EXISTS -> EtcdError.PEER_U_R_L_EXIST;
      case NOT_LEARNER -> EtcdError.MEMBER_NOT_LEARNER;
      case TOO_MANY_LEARNERS -> EtcdError.TOO_MANY_LEARNERS;
    };
  }

  /** etcd's words for a member that was removed from the cluster (the process then exits 0). */
  static final String REMOVED = "the member has been permanently removed from the cluster";

  private void removedFromCluster() {
    LOG.warn(REMOVED);
    terminate(REMOVED);
  }

  /** Stops this member from inside (removal, fatal error); {@link #terminated()} tells the embedder. */
  private void terminate(String reason) {
    if (terminated.isDone()) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        close();
      } catch (IOException | RuntimeException ex) {
        LOG.warn("error while stopping: {}", ex.toString());
      }
      terminated.complete(reason);
    }, "kvorum-terminate");
    t.setDaemon(true);
    t.start();
  }

  /** Completes with the reason when the member stopped on its own: removed from the cluster, or a fatal error. */
  public CompletableFuture<String> terminated() {
    return terminated;
  }

  /** Whether this member is a learner in its applied membership. */
  public boolean isLearner() {
    Member m = membership.get(memberId);
    return m != null && m.isLearner();
  }

  // ---------------------------------------------------------------- snapshots from the leader

  @Override
  public void restore(Snapshot snapshot) {
    java.nio.file.Path dir = BackendShipping.dataDir(cfg.memberDir(), snapshot.index());
    if (!java.nio.file.Files.isDirectory(dir)) {
      throw new IllegalStateException("no backend received with the raft snapshot at index " + snapshot.index());
    }
    long start = System.nanoTime();
    backend.replaceWith(dir);
    long ingested = System.nanoTime();
    reloadState();
    applied = backend.consistentIndex().index();
    try {
      io.kvorum.server.storage.SnapshotLoader.deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {}", dir, e.toString());
    }
    LOG.info("installed the snapshot at index {} (backend applied index {}, revision {}) in {} ms ({} ms to ingest, "
        + "then the index and leases rebuilt)", snapshot.index(), applied, kv.currentRevision(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), TimeUnit.NANOSECONDS.toMillis(ingested - start));
  }

  /** Reloads everything kept in memory from the backend after its content was replaced. */
  private void reloadState() {
    Map<com.google.protobuf.ByteString, Long> attached = kv.reload();
    lessor.clear();
    loadLeases(backend, lessor, attached);
    try (ReadView v = backend.snapshotView()) {
      byte[] record = v.get(Schema.Bucket.META, Schema.membershipKey());
      if (record != null) {
        membership.load(MembershipRecord.parseFrom(record));
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt membership record in the snapshot", e);
    }
    connectPeers();
    java.util.Set<Long> ids = new java.util.HashSet<>();
    membership.list().forEach(m -> ids.add(m.id()));
    for (long id : transport.peerIds()) {
      if (!ids.contains(id)) {
        peerChange(Membership.Kind.REMOVE, id, List.of());
      }
    }
    watchHub.storeReplaced();
  }

  /** Loads the stored leases into {@code lessor} and attaches the keys found with a lease. */
  private static void loadLeases(Backend backend, Lessor lessor, Map<com.google.protobuf.ByteString, Long> attached) {
    try (ReadView v = backend.snapshotView()) {
      v.scan(Schema.Bucket.LEASE, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        long[] rec = Schema.readLeaseValue(val);
        lessor.restore(Schema.readLong(k, "lease id"), rec[0], rec[1]);
        return true;
      });
    }
    lessor.restoreKeys(attached);
  }

  /** Sends to every other member at its peer URLs (known peers take the URLs as they are now). */
  private void connectPeers() {
    for (Member m : membership.list()) {
      if (m.id() != memberId) {
        try {
          transport.addPeer(m.id(), m.peerUrls().stream().map(URI::create).toList());
        } catch (RuntimeException e) {
          LOG.warn("cannot reach member {} at {}: {}", hex(m.id()), m.peerUrls(), e.toString());
        }
      }
    }
  }

  @Override
  public long appliedIndex() {
    return applied;
  }

  @Override
  public byte[] prepareSnapshot() {
    backend.sync();
    return new byte[0];
  }

  private void fatal(Throwable t) {
    LOG.error("member {} stops: {}", hex(memberId), t.toString(), t);
    stopped = true;
    waiters.failAll(EtcdError.STOPPED.exception());
    terminate("fatal error: " + t);
  }

  public boolean isStopped() {
    return stopped;
  }

  static String hex(long id) {
    return Long.toHexString(id);
  }

  /** Stops without handing over leadership (etcd's HardStop): what a crash looks like to peers. */
  public void hardStop() throws IOException {
    stopped = true;
    close();
  }

  private final AtomicBoolean closed = new AtomicBoolean();

  /** Stops; a leader first hands leadership to the most caught-up voter. */
  @Override
  public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (!stopped) {
      try {
        transferLeadershipBeforeStop();
      } catch (RuntimeException e) {
        LOG.warn("leadership transfer before stopping failed: {}", e.toString());
      }
    }
    stopped = true;
    ticker.shutdownNow();
    transport.close();
    loop.close();
    watchHub.close();
    readers.shutdownNow();
    waiters.failAll(EtcdError.STOPPED.exception());
    kv.close();
    backend.close();
  }
}
