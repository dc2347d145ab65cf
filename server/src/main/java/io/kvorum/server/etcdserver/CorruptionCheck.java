package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.raftpb.ForwardRequest;
import io.kvorum.proto.raftpb.ForwardResponse;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.transport.ForwardException;
import io.kvorum.server.transport.PeerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd 3.4's corruption checks ({@code etcdserver/corrupt.go}), comparing the member's {@code
 * HashKV} with its peers', which each peer serves through the peer transport ({@link
 * ForwardRequest} {@code hash_kv}, etcd's {@code /members/hashkv}):
 *
 * <ul>
 *   <li>{@link #initial} ({@code --experimental-initial-corrupt-check}): a restarted member, before
 *       it takes part in raft or serves a client, hashes its store at its current revision and
 *       asks every peer for its hash at that revision. A peer with the same compaction revision and
 *       another hash is a mismatch, and the member refuses to start. A peer that is behind, has
 *       compacted further, or cannot be reached only gets a warning.
 *   <li>{@link #startPeriodic} ({@code --experimental-corrupt-check-time}): the leader, every
 *       interval after the previous check ended, hashes its store, asks its followers, waits for a
 *       linearizable read and hashes again; its own two hashes differing at the same revisions, a
 *       follower ahead of it in revision or compaction, or a follower with the leader's first
 *       compaction revision and another hash, is a mismatch, and the leader raises the CORRUPT
 *       alarm through the log, for member 0 (etcd cannot tell which member's data is wrong).
 * </ul>
 *
 * <p>Peers are asked in parallel, each until it answers or the request timeout passes. A peer the
 * transport is not connected to is asked again every {@link #PEER_RETRY} for at most {@link
 * #CONNECT_WAIT}, then given up (etcd's HTTP request to a member that is down fails at once): a
 * member restarting while others are down is not held up for long.
 */
final class CorruptionCheck implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CorruptionCheck.class);
  /** How often a peer that cannot be reached yet is asked again, within the request timeout. */
  static final Duration PEER_RETRY = Duration.ofMillis(100);
  /** How long a peer the transport is not connected to yet is waited for. */
  static final Duration CONNECT_WAIT = Duration.ofSeconds(2);

  /** A peer's answer: its hash, or the etcd error it answered (null when it could not be asked). */
  record PeerHash(long id, List<String> peerUrls, HashKVResponse hash, EtcdError error) {}

  private final long memberId;
  private final Membership membership;
  private final PeerTransport transport;
  private final LongFunction<CompletableFuture<HashKVResponse>> localHash;
  private final Proposer proposer;
  private final BooleanSupplier leading;
  private final Clock clock;
  private final Duration timeout;
  private Clock.Timer timer;
  private boolean closed;

  /**
   * @param localHash this member's {@code HashKV} at a revision (0: the current one), off the caller's thread
   * @param leading whether this member leads
   * @param timeout etcd's request timeout, per peer
   */
  CorruptionCheck(long memberId, Membership membership, PeerTransport transport,
      LongFunction<CompletableFuture<HashKVResponse>> localHash, Proposer proposer, BooleanSupplier leading,
      Clock clock, Duration timeout) {
    this.memberId = memberId;
    this.membership = membership;
    this.transport = transport;
    this.localHash = localHash;
    this.proposer = proposer;
    this.leading = leading;
    this.clock = clock;
    this.timeout = timeout;
  }

  private String id() {
    return Long.toHexString(memberId);
  }

  // ---------------------------------------------------------------- initial

  /**
   * etcd's {@code CheckInitialHashKV}; blocks until every peer answered or timed out.
   *
   * @throws DataInconsistencyException if a peer with the same compaction revision has another hash
   */
  void initial() throws java.io.IOException {
    LOG.info("starting initial corruption check (local-member-id {}, timeout {})", id(), timeout);
    HashKVResponse local = await(localHash.apply(0), "hash the local store");
    long rev = local.getHeader().getRevision();
    long crev = local.getCompactRevision();
    int mismatch = 0;
    for (PeerHash p : await(peerHashes(rev), "ask the peers for their hashes")) {
      if (p.hash() != null) {
        HashKVResponse r = p.hash();
        String fields = String.format("local-member-id %s, local-member-revision %d, "
            + "local-member-compact-revision %d, local-member-hash %d, remote-peer-id %s, remote-peer-endpoints %s, "
            + "remote-peer-revision %d, remote-peer-compact-revision %d, remote-peer-hash %d", id(), rev, crev,
            Integer.toUnsignedLong(local.getHash()), Long.toHexString(p.id()), p.peerUrls(),
            r.getHeader().getRevision(), r.getCompactRevision(), Integer.toUnsignedLong(r.getHash()));
        if (r.getHash() != local.getHash()) {
          if (r.getCompactRevision() == crev) {
            LOG.warn("found different hash values from remote peer ({})", fields);
            mismatch++;
          } else {
            LOG.warn("found different compact revision values from remote peer ({})", fields);
          }
        }
      } else if (p.error() == EtcdError.FUTURE_REV) {
        LOG.warn("cannot fetch hash from slow remote peer (local-member-id {}, local-member-revision {}, "
            + "remote-peer-id {}, remote-peer-endpoints {})", id(), rev, Long.toHexString(p.id()), p.peerUrls());
      } else if (p.error() == EtcdError.COMPACTED) {
        LOG.warn("cannot fetch hash from remote peer; local member is behind (local-member-id {}, "
            + "local-member-revision {}, remote-peer-id {}, remote-peer-endpoints {})", id(), rev,
            Long.toHexString(p.id()), p.peerUrls());
      }
    }
    if (mismatch > 0) {
      throw new DataInconsistencyException(memberId);
    }
    LOG.info("initial corruption checking passed; no corruption (local-member-id {})", id());
  }

  private <T> T await(CompletableFuture<T> f, String what) throws java.io.IOException {
    try {
      // Each peer is bounded by the timeout already; this only guards against a defect.
      return f.get(timeout.toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting to " + what);
    } catch (ExecutionException | TimeoutException e) {
      Throwable t = Proposer.cause(e);
      throw new java.io.IOException(id() + " failed to " + what + " (" + t + ")", t);
    }
  }

  // ---------------------------------------------------------------- periodic

  /** etcd's {@code monitorKVHash}: checks every {@code interval} after the previous check, while leading. */
  synchronized void startPeriodic(Duration interval) {
    LOG.info("enabled corruption checking (local-member-id {}, interval {})", id(), interval);
    timer = clock.schedule(interval, () -> periodic(interval));
  }

  private void periodic(Duration interval) {
    CompletableFuture<Void> check = leading.getAsBoolean() && !proposer.isStopped() ? checkPeers()
        : CompletableFuture.completedFuture(null);
    check.whenComplete((v, err) -> {
      if (err != null) {
        LOG.warn("failed to check hash KV: {}", Proposer.cause(err).toString());
      }
      synchronized (this) {
        if (!closed) {
          timer = clock.schedule(interval, () -> periodic(interval));
        }
      }
    });
  }

  /** etcd's {@code checkHashKV}: completes when checked (and the alarm, if any, was proposed). */
  CompletableFuture<Void> checkPeers() {
    return localHash.apply(0).thenCompose(first -> peerHashes(first.getHeader().getRevision())
        .thenCompose(peers -> proposer.readIndex(RequestContext.MEMBER)
            .thenCompose(v -> localHash.apply(0))
            .thenCompose(second -> compare(first, second, peers))));
  }

  private CompletableFuture<Void> compare(HashKVResponse first, HashKVResponse second, List<PeerHash> peers) {
    long rev = first.getHeader().getRevision();
    long crev = first.getCompactRevision();
    long rev2 = second.getHeader().getRevision();
    long crev2 = second.getCompactRevision();
    boolean mismatch = false;
    if (second.getHash() != first.getHash() && rev2 == rev && crev2 == crev) {
      LOG.warn("found hash mismatch (revision-1 {}, compact-revision-1 {}, hash-1 {}, revision-2 {}, "
          + "compact-revision-2 {}, hash-2 {})", rev, crev, Integer.toUnsignedLong(first.getHash()), rev2, crev2,
          Integer.toUnsignedLong(second.getHash()));
      mismatch = true;
    }
    int checked = 0;
    for (PeerHash p : peers) {
      HashKVResponse r = p.hash();
      if (r == null) {
        continue;
      }
      checked++;
      String peer = Long.toHexString(p.id());
      if (r.getHeader().getRevision() > rev2) {
        LOG.warn("revision from follower must be less than or equal to leader's (leader-revision {}, "
            + "follower-revision {}, follower-peer-id {})", rev2, r.getHeader().getRevision(), peer);
        mismatch = true;
      }
      if (r.getCompactRevision() > crev2) {
        LOG.warn("compact revision from follower must be less than or equal to leader's (leader-compact-revision {}, "
            + "follower-compact-revision {}, follower-peer-id {})", crev2, r.getCompactRevision(), peer);
        mismatch = true;
      }
      if (r.getCompactRevision() == crev && r.getHash() != first.getHash()) {
        LOG.warn("same compact revision then hashes must match (leader-compact-revision {}, leader-hash {}, "
            + "follower-compact-revision {}, follower-hash {}, follower-peer-id {})", crev2,
            Integer.toUnsignedLong(first.getHash()), r.getCompactRevision(), Integer.toUnsignedLong(r.getHash()), peer);
        mismatch = true;
      }
    }
    LOG.info("finished peer corruption check (number-of-peers-checked {})", checked);
    if (!mismatch) {
      return CompletableFuture.completedFuture(null);
    }
    // Which member's data is wrong is not known: the alarm names member 0, as etcd's does.
    AlarmRequest a = AlarmRequest.newBuilder().setAction(AlarmRequest.AlarmAction.ACTIVATE).setMemberID(0)
        .setAlarm(AlarmType.CORRUPT).build();
    return proposer.propose(RequestContext.MEMBER, InternalRaftRequest.newBuilder().setAlarm(a), AlarmResponse.class)
        .thenApply(r -> null);
  }

  // ---------------------------------------------------------------- peers

  /** etcd's {@code getPeerHashKVs}: every other member with peer URLs, asked for its hash at {@code rev}. */
  CompletableFuture<List<PeerHash>> peerHashes(long rev) {
    List<CompletableFuture<PeerHash>> asked = new ArrayList<>();
    long now = clock.nanos();
    long deadline = now + timeout.toNanos();
    long connectDeadline = now + Math.min(timeout.toNanos(), CONNECT_WAIT.toNanos());
    ForwardRequest call = ForwardRequest.newBuilder().setHashKv(HashKVRequest.newBuilder().setRevision(rev)).build();
    for (Member m : membership.list()) {
      if (m.id() == memberId || m.peerUrls().isEmpty()) {
        continue;
      }
      CompletableFuture<PeerHash> f = new CompletableFuture<>();
      ask(m, call, connectDeadline, deadline, f);
      asked.add(f);
    }
    return CompletableFuture.allOf(asked.toArray(new CompletableFuture<?>[0]))
        .thenApply(v -> asked.stream().map(CompletableFuture::join).toList());
  }

  private void ask(Member m, ForwardRequest call, long connectDeadline, long deadline,
      CompletableFuture<PeerHash> out) {
    long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - clock.nanos()));
    transport.forward(m.id(), call, left).whenComplete((r, err) -> {
      if (err == null && r.getResultCase() == ForwardResponse.ResultCase.HASH_KV) {
        out.complete(new PeerHash(m.id(), m.peerUrls(), r.getHashKv(), null));
        return;
      }
      if (err == null && r.getResultCase() == ForwardResponse.ResultCase.ERROR) {
        EtcdError e = errorNamed(r.getError());
        out.complete(new PeerHash(m.id(), m.peerUrls(), null, e));
        return;
      }
      Throwable t = err == null ? new ForwardException("member " + Long.toHexString(m.id()) + " answered nothing")
          : Proposer.cause(err);
      if (t instanceof ForwardException && clock.nanos() + PEER_RETRY.toNanos() - connectDeadline < 0) {
        clock.schedule(PEER_RETRY, () -> ask(m, call, connectDeadline, deadline, out));
        return;
      }
      LOG.warn("failed hash kv request (local-member-id {}, requested-revision {}, remote-peer-id {}, "
          + "remote-peer-endpoints {}): {}", id(), call.getHashKv().getRevision(), Long.toHexString(m.id()),
          m.peerUrls(), t.toString());
      out.complete(new PeerHash(m.id(), m.peerUrls(), null, t instanceof EtcdException e ? e.error() : null));
    });
  }

  private static EtcdError errorNamed(String name) {
    try {
      return EtcdError.valueOf(name);
    } catch (IllegalArgumentException e) {
      return EtcdError.INTERNAL;
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.cancel();
    }
  }
}
