package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.raft.Config;
import io.kvorum.raft.Message;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.StateType;
import io.kvorum.raft.Status;
import io.kvorum.server.alarm.AlarmStore;
import io.kvorum.server.apply.BackendQuota;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.auth.TokenProvider;
import io.kvorum.server.auth.Tokens;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.clock.SystemClock;
import io.kvorum.server.compactor.AutoCompactor;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.metrics.Metrics;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.replication.Applier;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.replication.ReplicationException;
import io.kvorum.server.snapshot.SnapshotStream;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.transport.PeerSecurity;
import io.kvorum.server.transport.PeerTransport;
import io.kvorum.server.transport.TransportSettings;
import io.kvorum.server.watch.WatchHub;
import java.io.IOException;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member, as the API edge sees it: a thin facade over the parts that each do one job —
 * {@link Bootstrap} (the data dir), {@link Proposer} (requests through the log), {@link Reads},
 * {@link MemberApplier} (the state machine and its {@link io.kvorum.server.apply.ApplierChain}),
 * {@link LeaderCalls} (what only the leader serves), {@link LeaseDuties}, {@link Reconfiguration},
 * {@link LeadershipTransfer}, {@link QuotaAlarmer} (the backend quota before proposing),
 * {@link CorruptionCheck}, {@link Defragmenter}, the auto-compactor — wired to the raft loop, the
 * peer transport and the watch hub. Every
 * timer and time read goes through the member's {@link Clock}.
 */
public final class EtcdServer implements MemberView, ClusterServer, MaintenanceServer, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdServer.class);
  public static final String SERVER_VERSION = "3.4.23";
  public static final String CLUSTER_VERSION = "3.4.0";
  /** etcd's {@code MaxQuotaBytes}: a larger quota is taken, with a warning (8 GiB). */
  public static final long MAX_QUOTA_BYTES = 8L * 1024 * 1024 * 1024;
  /** etcd adds this to --max-request-bytes for gRPC messages (and watch fragments). */
  public static final long GRPC_OVERHEAD_BYTES = 512 * 1024;

  private final ServerConfig cfg;
  private final Clock clock;
  private final SystemClock ownClock;
  private final long memberId;
  private final Membership membership;
  private final Backend backend;
  private final KvStore kv;
  private final Lessor lessor;
  private final WatchHub watchHub;
  private final MemberApplier applier;
  private final RaftLoop loop;
  private final PeerTransport transport;
  private final Proposer proposer;
  private final Reads reads;
  private final KvRequests kvRequests;
  private final LeaseRequests leaseRequests;
  private final AuthStore authStore;
  private final AuthRequests authRequests;
  private final AlarmStore alarmStore;
  private final LogicalSize size;
  private final LeaderCalls leaderCalls;
  private final LeaseDuties leaseDuties;
  private final Reconfiguration reconfiguration;
  private final LeadershipTransfer transfer;
  private final Publication publication;
  private final Termination termination;
  private final Metrics metrics;
  private final CorruptionCheck corruption;
  private final ExecutorService defragThread;
  private final Defragmenter defragmenter;
  private final SnapshotExports snapshots;
  /** Whether the member's data existed when it started (etcd's {@code memberInitialized}). */
  private final boolean restarted;
  private final AtomicBoolean closed = new AtomicBoolean();
  private Clock.Timer ticks;
  private AutoCompactor autoCompactor = () -> { };

  private EtcdServer(ServerConfig cfg, Clock clock, SystemClock ownClock, TokenProvider tokens,
      Bootstrap.Opened o, UnaryOperator<Applier> applyThrough) {
    this.cfg = cfg;
    this.clock = clock;
    this.ownClock = ownClock;
    this.memberId = o.memberId();
    this.membership = o.membership();
    this.backend = o.backend();
    this.kv = o.kv();
    this.lessor = o.lessor();
    this.authStore = new AuthStore(backend, tokens);
    this.alarmStore = new AlarmStore(backend);
    this.size = new LogicalSize(kv, lessor, authStore);
    BackendQuota quota = backendQuota(cfg.quotaBackendBytes, size);
    this.termination = new Termination(hex(memberId), this::stopProposals, this::close);
    this.metrics = new Metrics(clock, SERVER_VERSION, CLUSTER_VERSION.substring(0, CLUSTER_VERSION.lastIndexOf('.')),
        "extensive".equals(cfg.metrics));
    kv.observe(metrics.store());
    lessor.observe(metrics.leases());
    backend.observeCommits(metrics.backendCommits());
    o.storage().observe(metrics.walFsyncs(), metrics.walAppended(), metrics.snapshotFsyncs());
    Duration requestTimeout = Duration.ofSeconds(5).plus(cfg.electionTimeout.multipliedBy(2));
    // Raft starts from its snapshot (applied = the snapshot index) and hands out every committed
    // entry after it again: the apply loop skips what the backend already holds, but membership
    // changes must reach raft again (its configuration is the snapshot's), as etcd does. The
    // backend may also be ahead of the persisted commit index after a crash (entries are applied
    // once durable locally), which raft must not be told.
    Config rc = Config.defaults(memberId, o.storage().memory(), new SecureRandom())
        .withTicks(cfg.electionTicks(), 1)
        .withElectionSafety(true, cfg.preVote);
    RawNode node = new RawNode(rc);
    this.transport = new PeerTransport(memberId, membership.clusterId(), this::loopReceive,
        id -> loopCall(n -> n.reportUnreachable(id)), (id, failed) -> loopCall(n -> n.reportSnapshot(id, failed)),
        PeerSecurity.forMember(cfg.peerTls, cfg.cipherSuites, cfg.dataDir, cfg.listenPeerUrls),
        TransportSettings.defaults());
    transport.readTimeFrom(clock::nanos);
    transport.observe(metrics.peers());
    Waiters waiters = new Waiters();
    BackendShipping shipping = new BackendShipping(cfg.memberDir(), backend, metrics.backendSnapshots());
    this.applier = new MemberApplier(memberId, cfg.memberDir(), shipping, backend, kv, lessor, authStore, alarmStore,
        quota, membership, new TransportPeers(memberId, transport, termination::removedFromCluster), waiters, clock,
        this::header, o.appliedIndex());
    this.loop = new RaftLoop(hex(memberId), node, o.storage(), transport, applyThrough.apply(applier),
        node.status().config(),
        cfg.snapshotCount, termination::fatal);
    this.proposer = new Proposer(loop, clock, new RequestIds(memberId, clock.wallMillis()), waiters,
        cfg.maxRequestBytes, requestTimeout);
    QuotaAlarmer quotaAlarmer = new QuotaAlarmer(memberId, quota, proposer);
    applier.onQuotaExceeded(quotaAlarmer::raiseThen);
    this.publication = new Publication(proposer, clock);
    this.reads = new Reads(kv, authStore, proposer, this::header, cfg.readerNice, metrics.hashes(),
        metrics.revisionHashes());
    this.watchHub = new WatchHub(kv, this::header, cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES, clock::nanos,
        cfg.watchProgressNotifyInterval.toNanos());
    applier.notify(watchHub);
    applier.warnApplyOver(cfg.warningApplyDuration);
    this.leaseDuties = new LeaseDuties(lessor, loop, proposer, cfg.electionTimeout, clock);
    applier.onTermStart(leaseDuties::termStarted);
    this.reconfiguration = new Reconfiguration(memberId, cfg.strictReconfigCheck, membership, transport, loop,
        proposer, clock);
    this.transfer = new LeadershipTransfer(memberId, loop, clock, requestTimeout);
    this.leaderCalls = new LeaderCalls(memberId, this::leader, transport, clock, membership, requestTimeout,
        proposer::isStopped);
    leaderCalls.serveWith(leaseDuties::renew, leaseDuties::timeToLive, reconfiguration::promoteHere);
    leaderCalls.serveHashKvWith(reads::hashKv);
    this.restarted = o.restarted();
    this.defragThread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "kvorum-defragment-" + cfg.name);
      t.setDaemon(true);
      return t;
    });
    this.defragmenter = new Defragmenter(backend, defragThread);
    this.snapshots = new SnapshotExports(backend, clock, cfg.memberDir(), cfg.name);
    this.corruption = new CorruptionCheck(memberId, membership, transport, reads::hashKv, proposer,
        () -> loop.softState().raftState() == StateType.LEADER, clock, requestTimeout);
    this.kvRequests = new KvRequests(reads, proposer, quotaAlarmer, cfg.maxTxnOps);
    this.leaseRequests = new LeaseRequests(proposer, quotaAlarmer, lessor, leaderCalls, this::header);
    this.authRequests = new AuthRequests(authStore, new Passwords(bcryptCost(cfg.bcryptCost)), proposer,
        applier::appliedIndex, cfg.clientTls.clientCertAuth());
    transport.serveForwards(leaderCalls);
    transport.serveSnapshots(s -> shipping.read(), shipping::receive);
    transport.handleRemoved(membership::isRemoved, termination::removedFromCluster);
    metrics.bind(new MemberReadings(memberId, cfg.quotaBackendBytes, membership, loop, proposer, applier, leaseDuties,
        kv, watchHub, authStore, transport, size));
  }

  /** Opens or creates the member's data and starts serving peers; clients are served by the API edge. */
  public static EtcdServer start(ServerConfig cfg) throws IOException {
    return start(cfg, UnaryOperator.identity());
  }

  /**
   * As {@link #start(ServerConfig)}, with the raft loop applying through {@code applyThrough} of
   * the member's applier: for tests that hold apply back (an overloaded member).
   */
  static EtcdServer start(ServerConfig cfg, UnaryOperator<Applier> applyThrough) throws IOException {
    SystemClock own = cfg.clock == null ? new SystemClock("kvorum-timer-" + cfg.name) : null;
    Clock clock = own != null ? own : cfg.clock;
    EtcdServer s;
    try {
      TokenProvider tokens = Tokens.fromFlag(cfg.authToken, cfg.authTokenTtl, clock);
      s = new EtcdServer(cfg, clock, own, tokens, Bootstrap.open(cfg, clock), applyThrough);
    } catch (IOException | RuntimeException e) {
      if (own != null) {
        own.close();
      }
      throw e;
    }
    try {
      s.applier.peers().connect(s.membership);
      s.transport.listen(cfg.listenPeerUrls);
      // etcd checks a restarted member's data against its peers' before it takes part in raft.
      if (cfg.initialCorruptCheck && s.restarted) {
        s.corruption.initial();
      }
      s.watchHub.start();
      s.loop.start();
      // etcd's initial election tick advance: skip most of the first election timeout so a fresh
      // cluster (or a restarted member) elects a leader within a few ticks of starting.
      for (int i = 0; cfg.initialElectionTickAdvance && i < cfg.electionTicks() - 1; i++) {
        s.loop.tick();
      }
      s.ticks = clock.scheduleEvery(cfg.heartbeatInterval, s::onTick);
      s.autoCompactor = AutoCompactor.start(cfg.autoCompaction, clock, s.new CompactionTarget());
      if (!cfg.corruptCheckTime.isZero()) {
        s.corruption.startPeriodic(cfg.corruptCheckTime);
      }
    } catch (IOException | RuntimeException e) {
      // A peer port taken, say: release the backend and the threads, or the data dir stays locked.
      try {
        s.hardStop();
      } catch (IOException | RuntimeException stopping) {
        e.addSuppressed(stopping);
      }
      throw e;
    } finally {
      s.termination.startOver();
    }
    return s;
  }

  /** What the automatic compactor compacts: this member's store, through the log, while it leads. */
  private final class CompactionTarget implements AutoCompactor.Target {
    @Override
    public long revision() {
      return kv.currentRevision();
    }

    @Override
    public boolean leading() {
      return loop.softState().raftState() == StateType.LEADER && !proposer.isStopped();
    }

    @Override
    public CompletableFuture<Void> compact(long revision) {
      CompactionRequest r = CompactionRequest.newBuilder().setRevision(revision).build();
      return kvRequests.compact(RequestContext.MEMBER, r).handle((v, err) -> {
        Throwable t = err == null ? null : Proposer.cause(err);
        if (t == null || (t instanceof EtcdException e && e.error() == EtcdError.COMPACTED)) {
          return null;
        }
        throw new CompletionException(t);
      });
    }
  }

  /** etcd's {@code NewBackendQuota}: 0 is the default quota, a negative one none; logged as etcd logs it. */
  private static BackendQuota backendQuota(long quotaBytes, LogicalSize size) {
    if (quotaBytes < 0) {
      LOG.info("disabled backend quota (quota-size-bytes {})", quotaBytes);
      return new BackendQuota(-1, size);
    }
    if (quotaBytes > MAX_QUOTA_BYTES) {
      LOG.warn("quota exceeds the maximum value (quota-size-bytes {}, quota-maximum-size-bytes {})", quotaBytes,
          MAX_QUOTA_BYTES);
    }
    LOG.info("enabled backend quota (quota-size-bytes {})", quotaBytes);
    return new BackendQuota(quotaBytes, size);
  }

  /** etcd's rule: a bcrypt cost outside bcrypt's bounds is replaced by the default, with a warning. */
  static int bcryptCost(int configured) {
    if (Passwords.validCost(configured)) {
      return configured;
    }
    LOG.warn("use default bcrypt cost {} instead of the invalid given cost {} (min {}, max {})",
        Passwords.DEFAULT_COST, configured, Passwords.MIN_COST, Passwords.MAX_COST);
    return Passwords.DEFAULT_COST;
  }

  /** Every heartbeat: the raft clock, then the leader's lease duties. */
  private void onTick() {
    loop.tick();
    leaseDuties.tick();
  }

  /**
   * Runs the leader's lease duties (promotion, expiry, checkpoints) now, as a tick would: tests
   * advance a fake clock and then call this instead of waiting for a tick.
   */
  public CompletableFuture<Void> leaseDutiesNow() {
    return CompletableFuture.runAsync(leaseDuties::tick);
  }

  // Peer callbacks: the transport exists before the loop, but only delivers once it listens.
  private void loopReceive(Message m) {
    RaftLoop l = loop;
    if (l != null) {
      l.receive(m);
    }
  }

  private void loopCall(Consumer<RawNode> action) {
    RaftLoop l = loop;
    if (l != null) {
      try {
        l.call(action);
      } catch (ReplicationException e) {
        // A full inbox: the report is advisory.
      }
    }
  }

  /**
   * Publishes this member's name and client URLs through the log, trying again until it is
   * applied; the future completes once this member applied it.
   */
  public CompletableFuture<Void> publish(List<URI> clientUrls) {
    return publication.publish(memberId, cfg.name, clientUrls);
  }

  // ---------------------------------------------------------------- identity and status

  @Override
  public long memberId() {
    return memberId;
  }

  @Override
  public long clusterId() {
    return membership.clusterId();
  }

  public Membership membership() {
    return membership;
  }

  @Override
  public ServerConfig config() {
    return cfg;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Status raftStatus() {
    return loop.status();
  }

  @Override
  public long leader() {
    return loop.softState().lead();
  }

  @Override
  public long term() {
    return loop.term();
  }

  /** The index of this member's newest raft snapshot (taken here, or received from the leader). */
  public long snapshotIndex() {
    return loop.snapshotIndex();
  }

  /** The member's logical size (see {@link LogicalSize}): what the backend quota measures. */
  @Override
  public long dbSizeBytes() {
    return size.getAsLong();
  }

  /**
   * The raised alarms as this member applied them, ordered by type and then member id: each names
   * the member it was raised for (0 for a CORRUPT alarm raised by the corruption check, as etcd
   * does) and its type. Any thread; no lock.
   */
  @Override
  public List<AlarmMember> alarms() {
    return alarmStore.all();
  }

  /** The raft loop, for tests that watch its indexes. */
  RaftLoop raftLoop() {
    return loop;
  }

  @Override
  public long appliedIndex() {
    return applier.appliedIndex();
  }

  public ResponseHeader header(long revision) {
    return ResponseHeader.newBuilder().setClusterId(membership.clusterId()).setMemberId(memberId)
        .setRevision(revision).setRaftTerm(loop.term()).build();
  }

  @Override
  public ResponseHeader header() {
    return header(kv.currentRevision());
  }

  @Override
  public boolean isLearner() {
    Member m = membership.get(memberId);
    return m != null && m.isLearner();
  }

  /** The member's watchers. */
  public WatchHub watchHub() {
    return watchHub;
  }

  /** The lessor, for tests and tools. */
  public Lessor lessor() {
    return lessor;
  }

  /** The KV service's requests. */
  public KvServer kv() {
    return kvRequests;
  }

  /** The Lease service's requests. */
  public LeaseServer leases() {
    return leaseRequests;
  }

  /** The Auth service's requests, and who a call's credentials name. */
  public AuthServer auth() {
    return authRequests;
  }

  /**
   * The member's Prometheus metrics, etcd's names: the {@code /metrics} endpoint writes
   * {@link Metrics#scrape} with {@link Metrics#contentType()}, and {@code /health} counts its
   * answers with {@link Metrics#healthSucceeded()} and {@link Metrics#healthFailed()}.
   */
  public Metrics metrics() {
    return metrics;
  }

  /** The auth store, for tests and tools. */
  public AuthStore authStore() {
    return authStore;
  }

  // ---------------------------------------------------------------- maintenance

  @Override
  public CompletableFuture<HashKVResponse> hashKv(RequestContext ctx, long revision) {
    authRequests.checkAdmin(ctx);
    return reads.hashKv(revision);
  }

  @Override
  public CompletableFuture<HashResponse> hash(RequestContext ctx) {
    authRequests.checkAdmin(ctx);
    return reads.hash();
  }

  /** A full compaction of the backend beside reads and writes (see {@link Defragmenter}). */
  @Override
  public CompletableFuture<Void> defragment(RequestContext ctx) {
    authRequests.checkAdmin(ctx);
    return defragmenter.defragment();
  }

  /** etcd's {@code Snapshot}, for the root user: the backend in etcd's format (see {@link SnapshotExports}). */
  @Override
  public CompletableFuture<SnapshotStream> snapshot(RequestContext ctx) {
    authRequests.checkAdmin(ctx);
    return snapshots.export();
  }

  /** etcd's {@code Alarm}: every action goes through the log; no permission is checked. */
  @Override
  public CompletableFuture<AlarmResponse> alarm(RequestContext ctx, AlarmRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAlarm(r), AlarmResponse.class);
  }

  @Override
  public CompletableFuture<Void> moveLeader(RequestContext ctx, long transferee) {
    return transfer.move(transferee);
  }

  /** Completes when this member has applied everything committed before the call. */
  public CompletableFuture<Void> linearizableReadNotify() {
    return proposer.readIndex(RequestContext.MEMBER);
  }

  // ---------------------------------------------------------------- membership

  @Override
  public List<Member> members() {
    return membership.list();
  }

  @Override
  public CompletableFuture<MemberAdded> memberAdd(RequestContext ctx, List<String> peerUrls, boolean learner) {
    authRequests.checkAdmin(ctx);
    return reconfiguration.add(ctx, peerUrls, learner);
  }

  @Override
  public CompletableFuture<List<Member>> memberRemove(RequestContext ctx, long id) {
    authRequests.checkAdmin(ctx);
    return reconfiguration.remove(ctx, id);
  }

  @Override
  public CompletableFuture<List<Member>> memberUpdate(RequestContext ctx, long id, List<String> peerUrls) {
    authRequests.checkAdmin(ctx);
    return reconfiguration.update(ctx, id, peerUrls);
  }

  @Override
  public CompletableFuture<List<Member>> memberPromote(RequestContext ctx, long id) {
    authRequests.checkAdmin(ctx);
    return leaderCalls.promote(id).thenApply(r -> r.getMembersList().stream().map(Member::fromProto).toList());
  }

  // ---------------------------------------------------------------- lifecycle

  /** Completes with the reason when the member stopped on its own: removed from the cluster, or a fatal error. */
  public CompletableFuture<String> terminated() {
    return termination.terminated();
  }

  private void stopProposals() {
    proposer.stop();
  }

  public boolean isStopped() {
    return proposer.isStopped();
  }

  static String hex(long id) {
    return Long.toHexString(id);
  }

  /** Stops without handing over leadership (etcd's HardStop): what a crash looks like to peers. */
  public void hardStop() throws IOException {
    proposer.stop();
    close();
  }

  /** Stops; a leader first hands leadership to the most caught-up voter. */
  @Override
  public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (!proposer.isStopped()) {
      try {
        transfer.beforeStop(cfg.electionTimeout);
      } catch (RuntimeException e) {
        LOG.warn("leadership transfer before stopping failed: {}", e.toString());
      }
    }
    proposer.stop();
    if (ticks != null) {
      ticks.cancel();
    }
    autoCompactor.close();
    corruption.close();
    defragThread.shutdown();
    snapshots.close();
    transport.close();
    loop.close();
    watchHub.close();
    reads.close();
    authRequests.close();
    // Again: a proposal that passed the stopped check while the member was stopping.
    proposer.stop();
    kv.close();
    backend.close();
    if (ownClock != null) {
      ownClock.close();
    }
  }
}
