package io.kvorum.server.etcdserver;

import io.kvorum.raft.Status;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.replication.ReplicationException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handing leadership to another voter: etcd's MoveLeader, and the hand-over a leader makes before
 * it stops (etcd's {@code TransferLeadership}) so the cluster does not wait an election timeout.
 * The transfer is done when this member learns the transferee leads; it fails after the request timeout.
 */
final class LeadershipTransfer {
  private static final Logger LOG = LoggerFactory.getLogger(LeadershipTransfer.class);

  private final long memberId;
  private final RaftLoop loop;
  private final Clock clock;
  private final Duration timeout;

  LeadershipTransfer(long memberId, RaftLoop loop, Clock clock, Duration timeout) {
    this.memberId = memberId;
    this.loop = loop;
    this.clock = clock;
    this.timeout = timeout;
  }

  /**
   * etcd's MoveLeader: this member, which must lead, hands leadership to voter {@code transferee}
   * and completes once that member leads (at once if it already does).
   */
  CompletableFuture<Void> move(long transferee) {
    if (loop.softState().lead() != memberId) {
      return CompletableFuture.failedFuture(EtcdError.NOT_LEADER.exception());
    }
    if (!loop.status().config().voters().contains(transferee)) {
      return CompletableFuture.failedFuture(EtcdError.BAD_LEADER_TRANSFEREE.exception());
    }
    LOG.info("leadership transfer starting from {} to {}", hex(memberId), hex(transferee));
    long start = clock.nanos();
    try {
      loop.call(n -> n.transferLeader(transferee));
    } catch (ReplicationException e) {
      return CompletableFuture.failedFuture(Proposer.toEtcd(e));
    }
    CompletableFuture<Void> leads = loop.whenLeader(transferee);
    CompletableFuture<Void> done = new CompletableFuture<>();
    Clock.Timer timer = clock.schedule(timeout, () -> done.completeExceptionally(
        EtcdError.TIMEOUT_LEADER_TRANSFER.exception()));
    leads.whenComplete((v, err) -> {
      if (err == null) {
        LOG.info("leadership transfer finished from {} to {} (took {} ms)", hex(memberId), hex(transferee),
            TimeUnit.NANOSECONDS.toMillis(clock.nanos() - start));
        done.complete(null);
      } else {
        done.completeExceptionally(EtcdError.TIMEOUT_LEADER_TRANSFER.exception());
      }
    });
    done.whenComplete((v, err) -> {
      timer.cancel();
      leads.cancel(false);
    });
    return done;
  }

  /**
   * Before stopping, a leader of several voters hands leadership to the voter most caught up, and
   * waits for it to take over — at most three election timeouts of real time, since the member is
   * going away whatever its clock says.
   */
  void beforeStop(Duration electionTimeout) {
    if (loop.softState().lead() != memberId) {
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
      move(best).get(Math.min(timeout.toMillis(), electionTimeout.toMillis() * 3), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("leadership transfer before stopping did not finish: {}", e.toString());
    }
  }

  private static String hex(long id) {
    return Long.toHexString(id);
  }
}
