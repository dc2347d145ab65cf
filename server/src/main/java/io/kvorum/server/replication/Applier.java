package io.kvorum.server.replication;

import io.kvorum.raft.ConfChange;
import io.kvorum.raft.Entry;
import io.kvorum.raft.Snapshot;
import java.util.List;

/**
 * What the raft loop needs from the state machine. Called on the apply thread only, in log order.
 * Implementations must be deterministic: no clock, randomness or member-local state.
 */
public interface Applier {
  /** Applies committed entries that are not membership changes, in log order. */
  void apply(List<Entry> entries);

  /**
   * Decides and applies membership change entry {@code e} (decoded as {@code cc}), returning the
   * change raft is to apply: {@code cc} itself, or a no-op (node id 0) when the change is refused.
   * The decision must be deterministic. Called for every membership change raft hands out, also
   * for one at or below {@link #appliedIndex()} (after a restart raft replays its log from its
   * snapshot); the applier must then answer the decision it made the first time, changing nothing.
   */
  ConfChange applyConfChange(Entry e, ConfChange cc);

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
