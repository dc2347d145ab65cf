package io.kvorum.raft;

/**
 * The last indexes of APP messages sent to one follower and not yet acknowledged: a ring buffer of
 * at most {@code capacity} entries. A full window pauses replication to that follower.
 */
final class Inflights {
  private final long[] buffer;
  private int start;
  private int count;

  Inflights(int capacity) {
    buffer = new long[capacity];
  }

  /** Records an APP message whose last entry is {@code index}; indexes must be increasing. */
  void add(long index) {
    Invariants.check(!full(), "cannot add into a full inflights");
    int next = start + count;
    if (next >= buffer.length) {
      next -= buffer.length;
    }
    buffer[next] = index;
    count++;
  }

  /** Frees every message whose last index is at most {@code to}. */
  void freeLE(long to) {
    if (count == 0 || to < buffer[start]) {
      return;
    }
    int idx = start;
    int i;
    for (i = 0; i < count; i++) {
      if (to < buffer[idx]) {
        break;
      }
      idx++;
      if (idx >= buffer.length) {
        idx -= buffer.length;
      }
    }
    count -= i;
    start = idx;
    if (count == 0) {
      start = 0;
    }
  }

  /** Frees the oldest message (a heartbeat answer proves the follower is alive). */
  void freeFirstOne() {
    if (count > 0) {
      freeLE(buffer[start]);
    }
  }

  boolean full() {
    return count == buffer.length;
  }

  int count() {
    return count;
  }

  void reset() {
    count = 0;
    start = 0;
  }
}
