package io.kvorum.raft;

/** One step of a membership change. */
public enum ConfChangeType {
  /** Add a voter, or promote a learner to voter. */
  ADD_NODE,
  /** Remove a voter or learner. */
  REMOVE_NODE,
  /** No change to the configuration; carries application data (a peer URL update). */
  UPDATE_NODE,
  /** Add a learner, or demote a voter to learner. */
  ADD_LEARNER_NODE
}
