package io.kvorum.raft;

/** How a leader confirms it is still the leader before it answers a ReadIndex request. */
public enum ReadOnlyOption {
  /** A heartbeat round acknowledged by a quorum (no clock assumption). */
  SAFE,
  /**
   * The leader lease: with check-quorum on, a leader that heard from a quorum within an election
   * timeout answers at once. Correct only while clocks drift less than the election timeout.
   */
  LEASE_BASED
}
