package io.kvorum.server.replication;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.Snapshot;
import java.util.List;

/**
 * What the raft loop needs from the state machine. Called on the apply thread only, in log order.
 * Implementations must be deterministic: no clock, randomness or member-local state.
 */
public interface Applier {
  /**
   * Applies committed entries. {@code confStates.get(i)} is the configuration in force after
   * {@code entries.get(i)} when that entry is a membership change, else null.
   */
  void apply(List<Entry> entries, List<ConfState> confStates);

  /** Replaces the whole state with a snapshot received from the leader. */
  void restore(Snapshot snapshot);

  /** The index of the last entry applied (persisted with the state). */
  long appliedIndex();

  /**
   * Makes the state up to {@link #appliedIndex()} durable and returns the opaque data to put in a
   * raft snapshot at that index.
   */
  byte[] prepareSnapshot();
}
