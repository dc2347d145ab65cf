package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.LeaseCheckpoint;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointRequest;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.raft.StateType;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.replication.RaftLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What only the leader does for leases: it alone tracks deadlines, so it serves renewals and
 * time-to-live queries. A new leader promotes the lessor when it applies the empty first entry of
 * its term, before any request of that term, as etcd does (every lease then held is extended by an
 * election timeout; a lease granted in the term is not); a tick that finds the member no longer
 * leading demotes it. Every tick the leader proposes the revoke of expired leases — one batch in
 * the log at a time, so expiry never floods it — and checkpoints of remaining TTLs. Ticks may
 * come from the clock's timer thread or a test; the duties run one at a time.
 */
final class LeaseDuties {
  private static final Logger LOG = LoggerFactory.getLogger(LeaseDuties.class);
  /** Leases revoked per log entry when they expire. */
  static final int EXPIRE_BATCH_MAX = 250;
  /** Checkpoints per log entry, as etcd batches them. */
  static final int CHECKPOINT_BATCH_MAX = 1000;

  private final Lessor lessor;
  private final RaftLoop loop;
  private final Proposer proposer;
  private final Duration electionTimeout;
  private final Clock clock;
  /** The term in which the lessor was last promoted; 0 while it is not. */
  private long leadingTerm;
  /** Whether a batch of expired leases is on its way through the log. */
  private boolean expiryInFlight;
  /** Leases this member found expired while leading (etcd's {@code lease_expired_total}). */
  private volatile long expiredLeases;

  /** Leases found expired and proposed for revocation so far. */
  long expiredCount() {
    return expiredLeases;
  }

  LeaseDuties(Lessor lessor, RaftLoop loop, Proposer proposer, Duration electionTimeout, Clock clock) {
    this.clock = clock;
    this.lessor = lessor;
    this.loop = loop;
    this.proposer = proposer;
    this.electionTimeout = electionTimeout;
  }

  /**
   * The apply thread applied an empty entry of {@code term}: if this member leads in that term,
   * everything of the terms before is applied, and the lessor is promoted.
   */
  synchronized void termStarted(long term) {
    if (term != leadingTerm && loop.term() == term && loop.softState().raftState() == StateType.LEADER) {
      if (leadingTerm != 0) {
        // Led an earlier term too, and lost it between two ticks: its deadlines are stale.
        lessor.demote();
      }
      leadingTerm = term;
      lessor.promote(electionTimeout.toNanos());
    }
  }

  /** One heartbeat tick of the leader's lease duties. */
  synchronized void tick() {
    if (leadingTerm != 0 && (loop.softState().raftState() != StateType.LEADER || loop.term() != leadingTerm)) {
      leadingTerm = 0;
      lessor.demote();
    }
    if (leadingTerm == 0) {
      return;
    }
    expire();
    List<long[]> cps = lessor.dueCheckpoints(CHECKPOINT_BATCH_MAX);
    if (!cps.isEmpty()) {
      checkpoint(cps);
    }
  }

  /** Proposes the next batch of expired leases unless one is still on its way through the log. */
  private void expire() {
    if (proposer.isStopped() || expiryInFlight) {
      return;
    }
    List<Long> expired = lessor.expired(EXPIRE_BATCH_MAX);
    if (expired.isEmpty()) {
      return;
    }
    expiryInFlight = true;
    expiredLeases += expired.size();
    proposer.propose(RequestContext.MEMBER, InternalRaftRequest.newBuilder()
        .setLeaseExpire(LeaseExpire.newBuilder().addAllIds(expired)), LeaseRevokeResponse.class)
        .whenComplete((v, err) -> afterExpiry(err == null));
  }

  private synchronized void afterExpiry(boolean applied) {
    expiryInFlight = false;
    if (applied) {
      // More may be waiting: the next batch goes as soon as this one is applied (from the timer,
      // not the apply thread that reports it).
      clock.schedule(Duration.ZERO, this::expireMore);
    }
  }

  private synchronized void expireMore() {
    if (leadingTerm != 0) {
      expire();
    }
  }

  private void checkpoint(List<long[]> cps) {
    LeaseCheckpointRequest.Builder b = LeaseCheckpointRequest.newBuilder();
    for (long[] c : cps) {
      b.addCheckpoints(LeaseCheckpoint.newBuilder().setID(c[0]).setRemainingTTL(c[1]));
    }
    proposer.propose(RequestContext.MEMBER, InternalRaftRequest.newBuilder().setLeaseCheckpoint(b),
        LeaseCheckpointResponse.class).whenComplete((v, err) -> {
          if (err != null) {
            LOG.debug("lease checkpoint not applied: {}", err.toString());
          }
        });
  }

  /** Renews at this member, which must lead; a lease granted but not yet applied here is waited for. */
  CompletableFuture<LeaseKeepAliveResponse> renew(long id) {
    return whenGrantApplied(id, () -> {
      Lessor.Renewal r = lessor.renew(id);
      if (r != null && r.clearCheckpoint()) {
        checkpoint(List.of(new long[] {id, 0}));
      }
      return LeaseKeepAliveResponse.newBuilder().setID(id).setTTL(r == null ? 0 : r.ttl()).build();
    });
  }

  /** A lease's remaining TTL at this member, which must lead; TTL -1 for an unknown lease (etcd 3.4). */
  CompletableFuture<LeaseTimeToLiveResponse> timeToLive(LeaseTimeToLiveRequest req) {
    return whenGrantApplied(req.getID(), () -> {
      Lessor.TimeToLive t = lessor.timeToLive(req.getID(), req.getKeys());
      if (t == null) {
        return LeaseTimeToLiveResponse.newBuilder().setID(req.getID()).setTTL(-1).build();
      }
      return LeaseTimeToLiveResponse.newBuilder().setID(t.id()).setTTL(t.remainingSeconds())
          .setGrantedTTL(t.grantedTtl()).addAllKeys(t.keys()).build();
    });
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
}
