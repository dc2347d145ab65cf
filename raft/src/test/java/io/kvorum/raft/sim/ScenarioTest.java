package io.kvorum.raft.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfChangeTransition;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.StateType;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hand-scripted runs of one behaviour each on a quiet {@link SimCluster} (no loss, one step per
 * message hop, one tick per step). The safety checker watches these runs too, so a scenario that
 * reaches its goal unsafely still fails.
 */
class ScenarioTest {
  private static final long SEED = 7;
  private static final int ELECTION_TICKS = 10;
  /** A generous bound for anything that needs a few election rounds. */
  private static final int SETTLE_TICKS = 20 * ELECTION_TICKS;

  private static SimCluster quietCluster(SimConfig cfg) {
    return new SimCluster(cfg.ticks(ELECTION_TICKS, 1), SEED);
  }

  /** Makes {@code id} campaign and waits until it leads and has committed its first entry everywhere. */
  private static void elect(SimCluster c, long id, long... others) {
    c.campaign(id);
    c.runUntil(() -> c.node(id).isLeader(), SETTLE_TICKS, "n" + id + " leads");
    awaitApplied(c, c.propose(id), concat(id, others));
  }

  private static void awaitApplied(SimCluster c, long pid, long... ids) {
    assertThat(pid).as("proposal accepted").isNotZero();
    c.runUntil(() -> c.appliedOn(pid, ids), SETTLE_TICKS, "payload " + pid + " applied on " + List.of(box(ids)));
  }

  private static long[] concat(long id, long... others) {
    long[] all = new long[others.length + 1];
    all[0] = id;
    System.arraycopy(others, 0, all, 1, others.length);
    return all;
  }

  private static Long[] box(long[] ids) {
    Long[] out = new Long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = ids[i];
    }
    return out;
  }

  // ---- Elections ----

  @Test
  void preVote_rejoiningPartitionedNodeDoesNotDeposeLeader() {
    SimCluster c = quietCluster(SimConfig.manual(3).electionSafety(true, true));
    elect(c, 1, 2, 3);
    long term = c.node(1).term();

    c.network().isolate(3);
    c.runTicks(10 * ELECTION_TICKS);
    // Its pre-votes failed, so it never raised its term while cut off.
    assertThat(c.node(3).term()).isEqualTo(term);
    c.network().heal();
    c.runTicks(5 * ELECTION_TICKS);

    assertThat(c.leader()).isEqualTo(1);
    assertThat(c.node(1).term()).isEqualTo(term);
    assertThat(c.node(3).lead()).isEqualTo(1);
    assertThat(c.checker().leadersElected()).isEqualTo(1);
  }

  @Test
  void withoutPreVote_rejoiningPartitionedNodeRaisesTheTerm() {
    SimCluster c = quietCluster(SimConfig.manual(3).electionSafety(false, false));
    elect(c, 1, 2, 3);
    long term = c.node(1).term();

    c.network().isolate(3);
    c.runTicks(10 * ELECTION_TICKS);
    assertThat(c.node(3).term()).isGreaterThan(term);
    c.network().heal();
    c.runUntil(() -> c.node(1).term() > term, SETTLE_TICKS, "the rejoining node's term reaches the leader");
    c.runUntil(() -> c.leader() != 0, SETTLE_TICKS, "a leader again");

    // The contrast with the pre-vote case: the disruption cost an election.
    assertThat(c.node(c.leader()).term()).isGreaterThan(term);
  }

  @Test
  void checkQuorum_isolatedLeaderStepsDownAfterElectionTimeout() {
    SimCluster c = quietCluster(SimConfig.manual(3).electionSafety(true, true));
    elect(c, 1, 2, 3);

    c.network().isolate(1);
    // The leader checks its quorum once per election timeout, so it notices within two.
    c.runUntil(() -> !c.node(1).isLeader(), 2 * ELECTION_TICKS + 1, "isolated leader steps down");
    c.runUntil(() -> c.node(2).isLeader() || c.node(3).isLeader(), SETTLE_TICKS, "the majority elects a leader");

    assertThat(c.node(1).role()).isNotEqualTo(StateType.LEADER);
  }

  @Test
  void withoutCheckQuorum_isolatedLeaderKeepsLeading() {
    SimCluster c = quietCluster(SimConfig.manual(3).electionSafety(false, true));
    elect(c, 1, 2, 3);

    c.network().isolate(1);
    c.runUntil(() -> c.node(2).isLeader() || c.node(3).isLeader(), SETTLE_TICKS, "the majority elects a leader");

    // Nothing tells it otherwise: two leaders, of different terms.
    assertThat(c.node(1).isLeader()).isTrue();
    assertThat(c.node(1).term()).isLessThan(c.leaderNode().term());
  }

  // ---- Learners ----

  @Test
  void learner_catchesUpNeverCampaignsThenPromotionCountsInQuorum() {
    SimCluster c = quietCluster(SimConfig.manual(3));
    elect(c, 1, 2, 3);
    long learner = c.startNewNode();
    assertThat(c.proposeConfChange(1, ConfChange.of(ConfChangeType.ADD_LEARNER_NODE, learner))).isTrue();
    long pid = 0;
    for (int i = 0; i < 5; i++) {
      pid = c.propose(1);
    }
    awaitApplied(c, pid, 1, 2, 3, learner);
    assertThat(c.node(learner).appliedConfig().learners()).containsExactly(learner);

    // Cut off for many election timeouts, a learner still never campaigns.
    long term = c.node(learner).term();
    c.network().isolate(learner);
    c.runTicks(5 * ELECTION_TICKS);
    c.network().heal();
    assertThat(c.node(learner).sentCount(MessageType.PRE_VOTE)).isZero();
    assertThat(c.node(learner).sentCount(MessageType.VOTE)).isZero();
    assertThat(c.node(learner).term()).isEqualTo(term);

    // As a learner it does not count: two of three voters down stops commits though it is up.
    c.crash(2);
    c.crash(3);
    long stalled = c.propose(1);
    c.runTicks(3 * ELECTION_TICKS);
    assertThat(c.payloadIndex(stalled)).as("committed without a voter quorum").isZero();
    c.restart(2);
    c.restart(3);
    c.runUntil(() -> c.leader() != 0, SETTLE_TICKS, "a leader after the voters return");
    long leader = c.leader();
    // A new leader refuses membership changes until it has applied its log (like etcd: a change may
    // be pending in it), so wait for a proposal of its own term first.
    awaitApplied(c, c.propose(leader), leader);

    assertThat(c.proposeConfChange(leader, ConfChange.of(ConfChangeType.ADD_NODE, learner))).isTrue();
    c.runUntil(() -> c.node(1).appliedConfig().voters().contains(learner)
        && c.node(2).appliedConfig().voters().contains(learner)
        && c.node(3).appliedConfig().voters().contains(learner), SETTLE_TICKS, "promotion applied");

    // Four voters need three: with one of the old voters down, the promoted member makes the quorum.
    long down = leader == 3 ? 2 : 3;
    c.crash(down);
    long[] up = java.util.stream.LongStream.of(1, 2, 3, learner).filter(x -> x != down).toArray();
    c.runUntil(() -> c.leader() != 0, SETTLE_TICKS, "a leader");
    awaitApplied(c, c.propose(c.leader()), up);
  }

  // ---- Joint consensus ----

  @Test
  void jointConsensus_removingTheLeaderElectsANewLeaderFromTheNewConfig() {
    // Keep the removed leader running to watch raft's own handling of it.
    SimCluster c = quietCluster(SimConfig.manual(3).decommissionRemoved(false));
    elect(c, 1, 2, 3);
    long added = c.startNewNode();

    ConfChange replace = new ConfChange(ConfChangeTransition.JOINT_IMPLICIT, List.of(
        new ConfChangeSingle(ConfChangeType.ADD_NODE, added),
        new ConfChangeSingle(ConfChangeType.REMOVE_NODE, 1)), null);
    assertThat(c.proposeConfChange(1, replace)).isTrue();
    c.runUntil(() -> {
      for (long id : new long[] {2, 3, added}) {
        if (c.node(id).appliedConfig().isJoint() || !c.node(id).appliedConfig().voters().equals(List.of(2L, 3L, added))) {
          return false;
        }
      }
      return true;
    }, SETTLE_TICKS, "the new configuration {2,3," + added + "} applied and the joint one left");
    c.runUntil(() -> c.node(2).isLeader() || c.node(3).isLeader() || c.node(added).isLeader(), SETTLE_TICKS,
        "a leader from the new configuration");

    assertThat(c.node(1).isLeader()).isFalse();
    awaitApplied(c, c.propose(c.leader()), 2, 3, added);
  }

  // ---- Leader transfer ----

  @Test
  void transferLeader_toCaughtUpFollowerMakesItLeader() {
    SimCluster c = quietCluster(SimConfig.manual(3));
    elect(c, 1, 2, 3);
    long term = c.node(1).term();

    c.transferLeader(1, 2);
    c.runUntil(() -> c.node(2).isLeader(), 2 * ELECTION_TICKS, "n2 leads after the transfer");

    assertThat(c.node(2).term()).isEqualTo(term + 1);
    assertThat(c.node(1).isLeader()).isFalse();
    awaitApplied(c, c.propose(2), 1, 2, 3);
  }

  @Test
  void transferLeader_toUnreachableFollowerIsAbortedAfterElectionTimeout() {
    SimCluster c = quietCluster(SimConfig.manual(3));
    elect(c, 1, 2, 3);
    c.network().isolate(3);

    c.transferLeader(1, 3);
    assertThat(c.node(1).status().leadTransferee()).isEqualTo(3);
    assertThat(c.propose(1)).as("proposals are refused while transferring").isZero();
    c.runUntil(() -> c.node(1).status().leadTransferee() == 0, ELECTION_TICKS + 1, "the transfer is abandoned");

    assertThat(c.node(1).isLeader()).isTrue();
    awaitApplied(c, c.propose(1), 1, 2);
  }

  // ---- ReadIndex ----

  @Test
  void readIndex_partitionedOldLeaderCannotAnswerButNewMajorityCan() {
    SimCluster c = quietCluster(SimConfig.manual(3));
    elect(c, 1, 2, 3);

    c.network().partition(new long[] {1}, new long[] {2, 3});
    long stale = c.readIndex(1);
    assertThat(c.node(1).isLeader()).as("still believes it leads when asked").isTrue();
    c.runUntil(() -> c.node(2).isLeader() || c.node(3).isLeader(), SETTLE_TICKS, "the majority elects a leader");
    long leader = c.leader();
    long write = c.propose(leader);
    awaitApplied(c, write, 2, 3);
    long fresh = c.readIndex(leader == 2 ? 3 : 2);
    c.runUntil(() -> c.readAnswer(fresh) >= 0, SETTLE_TICKS, "the new side answers a read");
    c.network().heal();
    c.runTicks(5 * ELECTION_TICKS);

    assertThat(c.readAnswer(stale)).as("the cut-off leader answered a read").isEqualTo(-1);
    assertThat(c.readAnswer(fresh)).isGreaterThanOrEqualTo(c.payloadIndex(write));
  }

  // ---- Snapshots ----

  @Test
  void snapshot_newMemberGetsSnapshotFromCompactedLeaderThenTheLog() {
    SimCluster c = quietCluster(SimConfig.manual(3));
    elect(c, 1, 2, 3);
    long pid = 0;
    for (int i = 0; i < 20; i++) {
      pid = c.propose(1);
    }
    awaitApplied(c, pid, 1, 2, 3);
    c.snapshotAndCompact(1, 0);
    long compactedTo = c.node(1).storage().firstIndex() - 1;
    assertThat(compactedTo).isGreaterThanOrEqualTo(c.payloadIndex(pid));

    long added = c.startNewNode();
    assertThat(c.proposeConfChange(1, ConfChange.of(ConfChangeType.ADD_NODE, added))).isTrue();
    awaitApplied(c, pid, added);
    assertThat(c.node(added).snapshotsInstalled()).isEqualTo(1);
    assertThat(c.node(added).storage().snapshot().index()).isEqualTo(compactedTo);

    long later = 0;
    for (int i = 0; i < 5; i++) {
      later = c.propose(1);
    }
    awaitApplied(c, later, 1, 2, 3, added);
    // The rest came through the log, not another snapshot.
    assertThat(c.node(added).snapshotsInstalled()).isEqualTo(1);
    assertThat(c.node(added).appliedConfig().voters()).contains(added);
  }
}
