package io.kvorum.raft;

import java.util.List;

/**
 * Read-only access to a {@link RawNode}'s log for test fixtures outside this package (the
 * simulation in {@code io.kvorum.raft.sim}). Raft keeps its log package-private; like grpc-java's
 * {@code Internal*} classes, this is the one door through which the harness looks at it, so the
 * public API stays small.
 */
public final class InternalRaftAccess {
  private InternalRaftAccess() {}

  public static long firstIndex(RawNode node) {
    return node.raftLog().firstIndex();
  }

  public static long lastIndex(RawNode node) {
    return node.raftLog().lastIndex();
  }

  public static long committed(RawNode node) {
    return node.raftLog().committed();
  }

  public static long applied(RawNode node) {
    return node.raftLog().applied();
  }

  /** The term of entry {@code i}, or 0 when it is compacted or not in the log. */
  public static long termOrZero(RawNode node, long i) {
    return node.raftLog().termOrZero(i);
  }

  /** Entries in [lo, hi) from storage and the unstable tail; empty when compacted. */
  public static List<Entry> entries(RawNode node, long lo, long hi) {
    return node.raftLog().entriesOrEmpty(lo, hi);
  }
}
