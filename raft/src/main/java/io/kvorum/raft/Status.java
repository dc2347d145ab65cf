package io.kvorum.raft;

import java.util.Map;

/**
 * A snapshot of a member's raft state for monitoring and for decisions the server makes (is the
 * learner caught up, who leads). {@code progress} is filled on the leader only.
 */
public record Status(
    long id,
    HardState hardState,
    SoftState softState,
    long applied,
    long leadTransferee,
    ConfState config,
    Map<Long, ProgressStatus> progress) {

  /** The leader's view of one member. */
  public record ProgressStatus(long match, long next, String state, boolean isLearner, boolean recentActive) {}

  public boolean isLeader() {
    return softState.raftState() == StateType.LEADER;
  }
}
