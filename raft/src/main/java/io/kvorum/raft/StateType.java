package io.kvorum.raft;

/** The role a member plays in its current term. */
public enum StateType {
  FOLLOWER,
  CANDIDATE,
  LEADER,
  PRE_CANDIDATE
}
