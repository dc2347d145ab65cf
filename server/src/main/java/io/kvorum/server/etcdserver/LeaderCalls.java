package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.MemberPromoteRequest;
import io.kvorum.proto.etcdserverpb.MemberPromoteResponse;
import io.kvorum.proto.raftpb.ForwardRequest;
import io.kvorum.proto.raftpb.ForwardResponse;
import io.kvorum.proto.raftpb.MemberInfo;
import io.kvorum.proto.raftpb.MembersResponse;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.transport.ForwardException;
import io.kvorum.server.transport.ForwardHandler;
import io.kvorum.server.transport.PeerTransport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls only the leader can serve — a lease renewal and a lease's time to live (only the leader
 * tracks deadlines), a learner's promotion (only it knows the learner's progress) — served here
 * when this member leads, or forwarded to the leader as a typed {@link ForwardRequest} whose
 * {@link ForwardResponse} carries the typed answer or etcd's error by name. This member also
 * serves its {@code HashKV} to a peer that asks (the corruption checks, {@link CorruptionCheck}). While there is no
 * leader, or leadership moves, or the leader cannot be reached, the call is tried again every
 * {@link #RETRY} until the request timeout, then fails with etcd's no-leader or timeout error.
 */
final class LeaderCalls implements ForwardHandler {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderCalls.class);
  static final Duration RETRY = Duration.ofMillis(100);

  private final long memberId;
  private final LongSupplier leader;
  private final PeerTransport transport;
  private final Clock clock;
  private final Membership membership;
  private final Duration timeout;
  private final BooleanSupplier stopped;
  // The calls as this member serves them when it leads (they fail with NOT_LEADER otherwise).
  private Function<Long, CompletableFuture<LeaseKeepAliveResponse>> renewHere;
  private Function<LeaseTimeToLiveRequest, CompletableFuture<LeaseTimeToLiveResponse>> timeToLiveHere;
  private Function<Long, CompletableFuture<MemberPromoteResponse>> promoteHere;
  private Function<Long, CompletableFuture<HashKVResponse>> hashKvHere =
      rev -> CompletableFuture.failedFuture(new IllegalStateException("no hash served yet"));

  LeaderCalls(long memberId, LongSupplier leader, PeerTransport transport, Clock clock, Membership membership,
      Duration timeout, BooleanSupplier stopped) {
    this.memberId = memberId;
    this.leader = leader;
    this.transport = transport;
    this.clock = clock;
    this.membership = membership;
    this.timeout = timeout;
    this.stopped = stopped;
  }

  /** Sets who serves the calls here (before the member serves peers). */
  void serveWith(Function<Long, CompletableFuture<LeaseKeepAliveResponse>> renew,
      Function<LeaseTimeToLiveRequest, CompletableFuture<LeaseTimeToLiveResponse>> timeToLive,
      Function<Long, CompletableFuture<MemberPromoteResponse>> promote) {
    this.renewHere = renew;
    this.timeToLiveHere = timeToLive;
    this.promoteHere = promote;
  }

  /** Sets how this member hashes its store at a revision for a peer (before the member serves peers). */
  void serveHashKvWith(Function<Long, CompletableFuture<HashKVResponse>> hashKv) {
    this.hashKvHere = hashKv;
  }

  CompletableFuture<LeaseKeepAliveResponse> renew(long leaseId) {
    LeaseKeepAliveRequest req = LeaseKeepAliveRequest.newBuilder().setID(leaseId).build();
    return atLeader(ForwardRequest.newBuilder().setLeaseRenew(req).build(), () -> renewHere.apply(leaseId),
        ForwardResponse::getLeaseRenew);
  }

  CompletableFuture<LeaseTimeToLiveResponse> timeToLive(LeaseTimeToLiveRequest r) {
    return atLeader(ForwardRequest.newBuilder().setLeaseTimeToLive(r).build(), () -> timeToLiveHere.apply(r),
        ForwardResponse::getLeaseTimeToLive);
  }

  CompletableFuture<MemberPromoteResponse> promote(long id) {
    MemberPromoteRequest req = MemberPromoteRequest.newBuilder().setID(id).build();
    return atLeader(ForwardRequest.newBuilder().setMemberPromote(req).build(), () -> promoteHere.apply(id),
        ForwardResponse::getMemberPromote);
  }

  private <T> CompletableFuture<T> atLeader(ForwardRequest call, Supplier<CompletableFuture<T>> here,
      Function<ForwardResponse, T> answer) {
    CompletableFuture<T> out = new CompletableFuture<>();
    attempt(call, here, answer, out, clock.nanos() + timeout.toNanos());
    return out;
  }

  private <T> void attempt(ForwardRequest call, Supplier<CompletableFuture<T>> here,
      Function<ForwardResponse, T> answer, CompletableFuture<T> out, long deadline) {
    if (stopped.getAsBoolean()) {
      out.completeExceptionally(EtcdError.STOPPED.exception());
      return;
    }
    long lead = leader.getAsLong();
    CompletableFuture<T> attempt;
    if (lead == memberId) {
      try {
        attempt = here.get();
      } catch (RuntimeException e) {
        attempt = CompletableFuture.failedFuture(e);
      }
    } else if (lead == 0) {
      attempt = CompletableFuture.failedFuture(EtcdError.NOT_LEADER.exception());
    } else {
      long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - clock.nanos()));
      attempt = transport.forward(lead, call, left).thenApply(r -> {
        if (r.getResultCase() == ForwardResponse.ResultCase.ERROR) {
          throw errorNamed(r.getError());
        }
        if (r.getResultCase() == ForwardResponse.ResultCase.RESULT_NOT_SET) {
          throw new ForwardException("member " + Long.toHexString(lead) + " answered nothing");
        }
        return answer.apply(r);
      });
    }
    attempt.whenComplete((v, err) -> {
      if (err == null) {
        out.complete(v);
        return;
      }
      Throwable t = Proposer.cause(err);
      boolean retry = t instanceof ForwardException || t instanceof Lessor.NotPrimaryException
          || (t instanceof EtcdException e && e.error() == EtcdError.NOT_LEADER);
      if (!retry) {
        out.completeExceptionally(Proposer.toEtcd(t));
        return;
      }
      // No leader yet, leadership moved, or the leader was unreachable: try again shortly.
      if (clock.nanos() + RETRY.toNanos() - deadline >= 0) {
        out.completeExceptionally(lead == 0 ? EtcdError.NO_LEADER.exception() : EtcdError.TIMEOUT.exception());
        return;
      }
      clock.schedule(RETRY, () -> attempt(call, here, answer, out, deadline));
    });
  }

  /** The etcd error a peer named; an unknown name (a newer member's) is this member's internal error. */
  private static EtcdException errorNamed(String name) {
    try {
      return EtcdError.valueOf(name).exception();
    } catch (IllegalArgumentException e) {
      LOG.warn("a peer answered a forwarded call with an unknown error {}", name);
      return EtcdError.INTERNAL.exception();
    }
  }

  // ---------------------------------------------------------------- serving peers

  @Override
  public CompletableFuture<ForwardResponse> handle(ForwardRequest r) {
    CompletableFuture<ForwardResponse> f = switch (r.getCallCase()) {
      case LEASE_RENEW -> renewHere.apply(r.getLeaseRenew().getID())
          .thenApply(v -> ForwardResponse.newBuilder().setLeaseRenew(v).build());
      case LEASE_TIME_TO_LIVE -> timeToLiveHere.apply(r.getLeaseTimeToLive())
          .thenApply(v -> ForwardResponse.newBuilder().setLeaseTimeToLive(v).build());
      case MEMBER_PROMOTE -> promoteHere.apply(r.getMemberPromote().getID())
          .thenApply(v -> ForwardResponse.newBuilder().setMemberPromote(v).build());
      case HASH_KV -> hashKvHere.apply(r.getHashKv().getRevision())
          .thenApply(v -> ForwardResponse.newBuilder().setHashKv(v).build());
      case CALL_NOT_SET -> CompletableFuture.failedFuture(new IllegalArgumentException("a forwarded call without a call"));
    };
    return f.exceptionallyCompose(err -> {
      Throwable t = Proposer.cause(err);
      if (t instanceof Lessor.NotPrimaryException) {
        return CompletableFuture.completedFuture(errorResponse(EtcdError.NOT_LEADER));
      }
      if (t instanceof EtcdException e) {
        return CompletableFuture.completedFuture(errorResponse(e.error()));
      }
      return CompletableFuture.failedFuture(t);
    });
  }

  private static ForwardResponse errorResponse(EtcdError e) {
    return ForwardResponse.newBuilder().setError(e.name()).build();
  }

  @Override
  public MembersResponse members() {
    MembersResponse.Builder b = MembersResponse.newBuilder().setClusterId(membership.clusterId());
    for (Member m : membership.list()) {
      b.addMembers(MemberInfo.newBuilder().setId(m.id()).setName(m.name()).addAllPeerUrls(m.peerUrls())
          .setIsLearner(m.isLearner()));
    }
    return b.build();
  }
}
