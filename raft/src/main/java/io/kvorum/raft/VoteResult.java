package io.kvorum.raft;

/** The outcome of counting votes (or acknowledgements) against a quorum configuration. */
enum VoteResult {
  PENDING,
  LOST,
  WON
}
