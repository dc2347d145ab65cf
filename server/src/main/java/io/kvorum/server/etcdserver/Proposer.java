package io.kvorum.server.etcdserver;

import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.MemberChange;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfChangeTransition;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.membership.Member;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.replication.ReplicationException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Puts requests through the log and waits for their outcome: gives each a unique id, registers
 * the client's waiter under it, proposes, and completes the waiter with the typed result the apply
 * thread reports — or with etcd's error when the request is refused, too large, or not applied
 * within the request timeout (or the client's deadline, when that comes first).
 *
 * <p>Overload: like etcd 3.4 ({@code processInternalRaftRequestOnce}), a request is refused with
 * {@code etcdserver: too many requests} before it is proposed while this member's committed index
 * is more than {@link #COMMITTED_UNAPPLIED_ENTRIES_MAX} entries ahead of its applied index: a
 * member whose apply falls behind stops taking work instead of piling it up; so it does while
 * {@link #PROPOSALS_PENDING_MAX} requests wait for their outcome (Kvorum's own). Membership changes
 * and the member's own attribute publication are proposed regardless, as etcd proposes them on
 * paths without that check.
 */
final class Proposer {
  /**
   * Committed entries not yet applied beyond which requests are refused (etcd's {@code
   * maxGapBetweenApplyAndCommitIndex}, not configurable in etcd either).
   */
  static final long COMMITTED_UNAPPLIED_ENTRIES_MAX = 5_000;
  /**
   * Requests this member proposed and still waits for (in its raft inbox, in the log uncommitted,
   * committed but not applied, or forwarded to a leader that may have dropped them): beyond it a
   * request is refused with {@code too many requests}. etcd 3.4 has no such count (a waiter there
   * lives until its request timeout); this one is far above what the other bounds let through in
   * normal operation, and keeps a member that forwards to an unreachable leader from holding a
   * request timeout's worth of waiters.
   */
  static final int PROPOSALS_PENDING_MAX = 100_000;
  private final RaftLoop loop;
  private final Clock clock;
  private final RequestIds ids;
  private final Waiters waiters;
  private final long maxRequestBytes;
  private final Duration requestTimeout;
  private final int pendingMax;
  private volatile boolean stopped;
  /** Proposals raft refused or that timed out (etcd's {@code proposals_failed_total}). */
  private final LongAdder failed = new LongAdder();

  Proposer(RaftLoop loop, Clock clock, RequestIds ids, Waiters waiters, long maxRequestBytes,
      Duration requestTimeout) {
    this(loop, clock, ids, waiters, maxRequestBytes, requestTimeout, PROPOSALS_PENDING_MAX);
  }

  /** As above, with at most {@code pendingMax} requests waiting (tests fill a small one). */
  Proposer(RaftLoop loop, Clock clock, RequestIds ids, Waiters waiters, long maxRequestBytes,
      Duration requestTimeout, int pendingMax) {
    this.pendingMax = pendingMax;
    this.loop = loop;
    this.waiters = waiters;
    this.clock = clock;
    this.ids = ids;
    this.maxRequestBytes = maxRequestBytes;
    this.requestTimeout = requestTimeout;
  }

  /** A fresh request id (also what lease ids are made from). */
  long nextId() {
    return ids.next();
  }

  /**
   * Proposes {@code req} and completes with its applied result of type {@code type}. The client's
   * future is the waiter itself: the apply thread completes it, and a timer on the member's clock
   * fails it with etcd's timeout (and forgets it) if it is not applied in time — no extra stages.
   * Fails at once with etcd's {@code too many requests}, proposing nothing, while apply lags commit
   * by more than {@link #COMMITTED_UNAPPLIED_ENTRIES_MAX} entries or {@link #PROPOSALS_PENDING_MAX}
   * requests wait (counted before this one registers, so concurrent callers may pass it by a few).
   */
  <T> CompletableFuture<T> propose(RequestContext ctx, InternalRaftRequest.Builder req, Class<T> type) {
    if (applyLagsCommit() || waiters.size() >= pendingMax) {
      return CompletableFuture.failedFuture(EtcdError.REQUEST_TOO_MANY_REQUESTS.exception());
    }
    return submit(ctx, req, type);
  }

  /**
   * As {@link #propose}, but also while apply lags commit: for the member's attribute publication,
   * which etcd 3.4 proposes on its v2 path, without the check (it retries until applied anyway).
   */
  <T> CompletableFuture<T> proposeEvenIfBehind(RequestContext ctx, InternalRaftRequest.Builder req, Class<T> type) {
    return submit(ctx, req, type);
  }

  /** True while committed entries wait for apply beyond {@link #COMMITTED_UNAPPLIED_ENTRIES_MAX}. */
  boolean applyLagsCommit() {
    return loop.committedIndex() > loop.appliedIndex() + COMMITTED_UNAPPLIED_ENTRIES_MAX;
  }

  private <T> CompletableFuture<T> submit(RequestContext ctx, InternalRaftRequest.Builder req, Class<T> type) {
    if (stopped) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    long id = ids.next();
    byte[] data = req.setHeader(RequestHeader.newBuilder().setId(id).setUsername(ctx.user())
        .setAuthRevision(ctx.authRevision())).build().toByteArray();
    if (data.length > maxRequestBytes) {
      return CompletableFuture.failedFuture(EtcdError.REQUEST_TOO_LARGE.exception());
    }
    CompletableFuture<T> f = waiters.register(id, type);
    CompletableFuture<Void> accepted = loop.propose(data);
    follow(ctx, id, f, accepted);
    return f;
  }

  /**
   * Fails waiter {@code id} (whose future is {@code f}) with etcd's error when raft refuses its
   * proposal ({@code accepted} fails), or at the request's deadline unless {@code f} completes
   * first: with etcd's timeout once raft took the proposal. One raft has not taken yet (no leader)
   * is given up at the deadline, as etcd's {@code Propose} gives up, and never made: failing
   * {@code accepted} fails the waiter with the context's error before the timeout is tried.
   */
  private void follow(RequestContext ctx, long id, CompletableFuture<?> f, CompletableFuture<Void> accepted) {
    accepted.whenComplete((v, err) -> {
      if (err != null && waiters.failWith(id, toEtcd(err))) {
        failed.increment();
      }
    });
    Clock.Timer timer = clock.schedule(Duration.ofNanos(waitNanos(ctx)), () -> {
      accepted.completeExceptionally(EtcdError.PROPOSAL_DEADLINE_EXCEEDED.exception());
      if (waiters.failWith(id, EtcdError.TIMEOUT.exception())) {
        failed.increment();
      }
    });
    f.whenComplete((v, err) -> timer.cancel());
  }

  private long waitNanos(RequestContext ctx) {
    long wait = requestTimeout.toNanos();
    if (ctx.deadlineNanos() != RequestContext.NO_DEADLINE) {
      wait = Math.max(0, Math.min(wait, ctx.deadlineNanos() - clock.nanos()));
    }
    return wait;
  }

  /** Proposes a membership change and completes with the membership once it is applied here. */
  CompletableFuture<List<Member>> configure(RequestContext ctx, ConfChangeType type, long id,
      MemberChange.Builder ch) {
    if (stopped) {
      return CompletableFuture.failedFuture(EtcdError.STOPPED.exception());
    }
    long rid = ids.next();
    ConfChange cc = new ConfChange(ConfChangeTransition.AUTO, List.of(new ConfChangeSingle(type, id)),
        ch.setRequestId(rid).build().toByteArray());
    CompletableFuture<Reconfigured> f = waiters.register(rid, Reconfigured.class);
    CompletableFuture<Void> accepted = loop.proposeConfChange(cc);
    follow(ctx, rid, f, accepted);
    return f.thenApply(Reconfigured::members);
  }

  /** Completes when this member has applied everything committed before the call (etcd's linearizable read). */
  CompletableFuture<Void> readIndex(RequestContext ctx) {
    return withTimeout(ctx, loop.readIndex().thenCompose(loop::waitApplied));
  }

  /** Completes when this member applied {@code index}, or fails with etcd's timeout at the request's time. */
  CompletableFuture<Void> waitApplied(RequestContext ctx, long index) {
    return withTimeout(ctx, loop.waitApplied(index));
  }

  /**
   * {@code f}, failed with etcd's request timeout if it is not done within the request timeout or
   * by the client's deadline, and with its failure translated to etcd's error.
   */
  private <T> CompletableFuture<T> withTimeout(RequestContext ctx, CompletableFuture<T> f) {
    CompletableFuture<T> out = new CompletableFuture<>();
    Clock.Timer timer = clock.schedule(Duration.ofNanos(waitNanos(ctx)), () -> out.completeExceptionally(
        EtcdError.TIMEOUT.exception()));
    f.whenComplete((v, err) -> {
      timer.cancel();
      if (err == null) {
        out.complete(v);
      } else {
        out.completeExceptionally(toEtcd(err));
      }
    });
    return out;
  }

  /** Fails every waiting request: the member stops. */
  void stop() {
    stopped = true;
    waiters.failAll(EtcdError.STOPPED.exception());
  }

  boolean isStopped() {
    return stopped;
  }

  /** Proposals refused by raft or timed out so far. */
  long failedCount() {
    return failed.sum();
  }

  /** Proposals waiting for their outcome. */
  int pendingCount() {
    return waiters.size();
  }

  /** The cause inside completion wrappers. */
  static Throwable cause(Throwable err) {
    Throwable t = err;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Maps internal failures to etcd's client errors; an unexpected one stays as it is (the edge logs it). */
  static RuntimeException toEtcd(Throwable err) {
    Throwable t = cause(err);
    if (t instanceof EtcdException e) {
      return e;
    }
    if (t instanceof ReplicationException r) {
      return switch (r.kind()) {
        case NO_LEADER -> EtcdError.NO_LEADER.exception();
        case TOO_MANY_REQUESTS -> EtcdError.REQUEST_TOO_MANY_REQUESTS.exception();
        case DROPPED -> EtcdError.RAFT_PROPOSAL_DROPPED.exception();
        case LEADER_CHANGED -> EtcdError.LEADER_CHANGED.exception();
        case STOPPED -> EtcdError.STOPPED.exception();
      };
    }
    if (t instanceof RuntimeException re) {
      return re;
    }
    return new IllegalStateException(t);
  }
}
