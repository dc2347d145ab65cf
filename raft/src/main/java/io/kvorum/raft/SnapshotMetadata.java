package io.kvorum.raft;

/** Where a snapshot sits in the log and which configuration was in force there. */
public record SnapshotMetadata(ConfState confState, long index, long term) {
  public static final SnapshotMetadata EMPTY = new SnapshotMetadata(ConfState.EMPTY, 0, 0);
}
