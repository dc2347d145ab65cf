package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.MemberPromoteResponse;
import io.kvorum.proto.serverpb.MemberChange;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.raft.Status;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.MemberIds;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.transport.PeerTransport;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's membership changes — add (voter or learner), remove, update, promote — with the checks
 * etcd makes before proposing one: well-formed peer URLs, and with {@code --strict-reconfig-check}
 * enough started members and an active quorum that survives the change; a learner is promoted
 * only by the leader, once its log reaches {@link #LEARNER_READY_PERCENT} of the leader's. What
 * depends on the applied membership (duplicates, unknown members) is decided at apply time.
 */
final class Reconfiguration {
  private static final Logger LOG = LoggerFactory.getLogger(Reconfiguration.class);
  /** How long peers must have been connected for a strict reconfiguration check (etcd's HealthInterval). */
  static final Duration HEALTH_INTERVAL = Duration.ofSeconds(5);
  /** A learner may be promoted once its log reaches this share of the leader's (etcd's readyPercent). */
  static final double LEARNER_READY_PERCENT = 0.9;

  private final long memberId;
  private final boolean strict;
  private final Membership membership;
  private final PeerTransport transport;
  private final RaftLoop loop;
  private final Proposer proposer;
  private final Clock clock;

  Reconfiguration(long memberId, boolean strict, Membership membership, PeerTransport transport, RaftLoop loop,
      Proposer proposer, Clock clock) {
    this.memberId = memberId;
    this.strict = strict;
    this.membership = membership;
    this.transport = transport;
    this.loop = loop;
    this.proposer = proposer;
    this.clock = clock;
  }


  /**
   * etcd's MemberAdd: the member is part of the configuration once the change is applied and may
   * start later with {@code --initial-cluster-state existing}. Its id hashes its peer URLs and the
   * current Unix time, as etcd's does.
   */
  CompletableFuture<MemberAdded> add(RequestContext ctx, List<String> peerUrls, boolean learner) {
    List<String> urls = PeerUrls.check(peerUrls);
    if (urls == null) {
      return CompletableFuture.failedFuture(EtcdError.MEMBER_BAD_U_R_LS.exception());
    }
    urls.sort(null); // etcd keeps a new member's URLs sorted
    if (strict) {
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
    long id = MemberIds.memberId(urls, "", clock.wallMillis() / 1000);
    MemberChange.Builder ch = MemberChange.newBuilder().setMemberId(id).addAllPeerUrls(urls).setIsLearner(learner);
    return proposer.configure(ctx, learner ? ConfChangeType.ADD_LEARNER_NODE : ConfChangeType.ADD_NODE, id, ch)
        .thenApply(list -> new MemberAdded(new Member(id, "", urls, List.of(), learner), list));
  }

  /** etcd's MemberRemove; removing this member (or the leader) stops it once applied. */
  CompletableFuture<List<Member>> remove(RequestContext ctx, long id) {
    if (strict) {
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
    return proposer.configure(ctx, ConfChangeType.REMOVE_NODE, id, MemberChange.newBuilder().setMemberId(id));
  }

  /** etcd's MemberUpdate: new peer URLs; every member's transport reconnects to them. */
  CompletableFuture<List<Member>> update(RequestContext ctx, long id, List<String> peerUrls) {
    // etcd 3.4 takes the URLs of an update unchecked and in the order given, and every member
    // panics applying one it cannot parse; Kvorum refuses those (a documented difference).
    List<String> urls = PeerUrls.check(peerUrls);
    if (urls == null) {
      return CompletableFuture.failedFuture(EtcdError.MEMBER_BAD_U_R_LS.exception());
    }
    return proposer.configure(ctx, ConfChangeType.UPDATE_NODE, id,
        MemberChange.newBuilder().setMemberId(id).addAllPeerUrls(urls));
  }

  /** Promotes learner {@code id} at this member, which must lead (etcd's MemberPromote at the leader). */
  CompletableFuture<MemberPromoteResponse> promoteHere(long id) {
    Status st = loop.status();
    if (loop.softState().lead() != memberId || st.progress() == null || st.progress().isEmpty()) {
      return CompletableFuture.failedFuture(new Lessor.NotPrimaryException());
    }
    Status.ProgressStatus learner = st.progress().get(id);
    Status.ProgressStatus self = st.progress().get(memberId);
    if (learner != null && self != null && learner.match() < self.match() * LEARNER_READY_PERCENT) {
      return CompletableFuture.failedFuture(EtcdError.LEARNER_NOT_READY.exception());
    }
    if (strict) {
      // The learner counts as a started voter of the configuration it joins.
      List<Member> voters = membership.voters();
      if (!quorumStarted(voters.size() + 1, voters.stream().filter(Reconfiguration::isStarted).count() + 1)) {
        return CompletableFuture.failedFuture(EtcdError.MEMBER_NOT_ENOUGH_STARTED.exception());
      }
    }
    return proposer.configure(RequestContext.MEMBER, ConfChangeType.ADD_NODE, id,
        MemberChange.newBuilder().setMemberId(id).setIsPromote(true)).thenApply(members -> {
          MemberPromoteResponse.Builder b = MemberPromoteResponse.newBuilder();
          members.forEach(m -> b.addMembers(m.toProto()));
          return b.build();
        });
  }

  /** etcd counts a member as started once it has a name (bootstrapped, or published). */
  private static boolean isStarted(Member m) {
    return !m.name().isEmpty();
  }

  private boolean readyToAddVoter() {
    List<Member> voters = membership.voters();
    long n = voters.size() + 1;
    long started = voters.stream().filter(Reconfiguration::isStarted).count();
    // Adding a second member to a one-member cluster is allowed (etcd: a restore case).
    return (started == 1 && n == 2) || quorumStarted(n, started);
  }

  /** Whether {@code started} of {@code members} voters make a quorum. */
  private static boolean quorumStarted(long members, long started) {
    return started >= members / 2 + 1;
  }

  /** Members of {@code ids} this member counts as connected for {@link #HEALTH_INTERVAL}, itself included. */
  private int connectedSince(List<Long> ids) {
    long cutoff = clock.nanos() - HEALTH_INTERVAL.toNanos();
    int n = 0;
    for (long id : ids) {
      if (id == memberId) {
        n++;
      } else {
        OptionalLong since = transport.activeSince(id);
        if (since.isPresent() && since.getAsLong() - cutoff <= 0) {
          n++;
        }
      }
    }
    return n;
  }
}
