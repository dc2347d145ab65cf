package io.kvorum.server.etcdserver;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.Status;
import io.kvorum.server.apply.KvApplier;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.MemberIds;
import io.kvorum.server.membership.Membership;
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
import io.kvorum.server.transport.PeerSecurity;
import io.kvorum.server.transport.PeerTransport;
import io.kvorum.server.transport.TransportSettings;
import io.kvorum.server.wal.RaftStorage;
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
  /** Reader threads serving ranges off the apply path. */
  static final int READ_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

  private final ServerConfig cfg;
  private final long memberId;
  private final Membership membership;
  private final Backend backend;
  private final KvStore kv;
  private final KvApplier kvApplier = new KvApplier(lease -> false);
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

  private EtcdServer(ServerConfig cfg, long memberId, Membership membership, Backend backend, KvStore kv,
      RaftStorage storage, long appliedIndex) {
    this.cfg = cfg;
    this.memberId = memberId;
    this.membership = membership;
    this.backend = backend;
    this.kv = kv;
    this.applied = appliedIndex;
    this.ids = new RequestIds(memberId, System.currentTimeMillis());
    this.requestTimeout = Duration.ofSeconds(5).plus(cfg.electionTimeout.multipliedBy(2));
    Config rc = Config.defaults(memberId, storage.memory(), new SecureRandom())
        .withTicks(cfg.electionTicks(), 1)
        .withElectionSafety(true, cfg.preVote)
        .withApplied(appliedIndex);
    RawNode node = new RawNode(rc);
    ConfState cs = node.status().config();
    this.transport = new PeerTransport(memberId, membership.clusterId(), m -> loopReceive(m),
        id -> loopCall(n -> n.reportUnreachable(id)), (id, failed) -> loopCall(n -> n.reportSnapshot(id, failed)),
        PeerSecurity.forMember(cfg.peerTls, cfg.cipherSuites, cfg.dataDir, cfg.listenPeerUrls), TransportSettings.defaults());
    this.loop = new RaftLoop(hex(memberId), node, storage, transport, this, cs, cfg.snapshotCount, this::fatal);
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
    if (RaftStorage.exists(memberDir)) {
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
    KvStore kv = KvStore.open(backend);
    Membership membership = new Membership(clusterId, initial);
    try (ReadView v = backend.snapshotView()) {
      v.scan(Schema.Bucket.META, Schema.memberKeysFrom(), Schema.memberKeysEnd(), 1024, (k, val) -> {
        try {
          MemberAttributes a = MemberAttributes.parseFrom(val);
          membership.publish(a.getMemberId(), a.getName(), a.getClientUrlsList());
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("corrupt member record " + new String(k, java.nio.charset.StandardCharsets.US_ASCII), e);
        }
        return true;
      });
    }
    long snapIndex = storage.memory().snapshot().index();
    long appliedIndex = backend.consistentIndex().index();
    if (appliedIndex < snapIndex) {
      if (snapIndex > 1) {
        throw new IOException("backend is behind the raft snapshot: applied " + appliedIndex + " < snapshot "
            + snapIndex);
      }
      appliedIndex = snapIndex;
    }
    EtcdServer s = new EtcdServer(cfg, memberId, membership, backend, kv, storage, appliedIndex);
    for (Member m : initial) {
      if (m.id() != memberId) {
        s.transport.addPeer(m.id(), m.peerUrls().stream().map(URI::create).toList());
      }
    }
    s.transport.listen(cfg.listenPeerUrls);
    s.loop.start();
    // etcd's initial election tick advance: skip most of the first election timeout so a fresh
    // cluster (or a restarted member) elects a leader within a few ticks of starting.
    for (int i = 0; i < cfg.electionTicks() - 1; i++) {
      s.loop.tick();
    }
    long tickMs = cfg.heartbeatInterval.toMillis();
    s.ticker.scheduleAtFixedRate(s.loop::tick, tickMs, tickMs, TimeUnit.MILLISECONDS);
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
    Throwable t = err;
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
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
  public void apply(List<Entry> entries, List<ConfState> confStates) {
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
        case PUBLISH -> {
          MemberAttributes a = req.getPublish();
          membership.publish(a.getMemberId(), a.getName(), a.getClientUrlsList());
          // Persisted with the consistent index: a restarted member does not re-apply it.
          try (Batch b = backend.newBatch()) {
            b.put(Schema.Bucket.META, Schema.memberKey(a.getMemberId()), a.toByteArray());
            b.setConsistentIndex(ci);
            backend.commit(b);
          }
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

  @Override
  public void restore(Snapshot snapshot) {
    // Receiving the backend from the leader comes with snapshot streaming; until then a member
    // that needs a snapshot cannot catch up and says so loudly.
    throw new IllegalStateException("raft snapshot install of the backend is not supported yet (index "
        + snapshot.index() + ")");
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
  }

  public boolean isStopped() {
    return stopped;
  }

  static String hex(long id) {
    return Long.toHexString(id);
  }

  @Override
  public void close() throws IOException {
    stopped = true;
    ticker.shutdownNow();
    transport.close();
    loop.close();
    readers.shutdownNow();
    waiters.failAll(EtcdError.STOPPED.exception());
    kv.close();
    backend.close();
  }
}
