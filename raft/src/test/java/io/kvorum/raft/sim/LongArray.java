package io.kvorum.raft.sim;

import java.util.Arrays;

/**
 * A growable {@code long[]} indexed by raft index or term, with {@link #UNSET} for holes. The
 * checker keeps one per global fact (committed term at an index, applied entry at an index) so a
 * lookup costs an array access instead of a boxed map probe on every step.
 */
final class LongArray {
  static final long UNSET = Long.MIN_VALUE;
  /** Raft indexes and terms in one run stay far below this; a bigger one is a harness or core bug. */
  private static final long INDEX_MAX = 1L << 26;

  private long[] values = new long[256];

  LongArray() {
    Arrays.fill(values, UNSET);
  }

  long get(long i) {
    return i >= 0 && i < values.length ? values[(int) i] : UNSET;
  }

  void set(long i, long v) {
    if (i < 0 || i >= INDEX_MAX) {
      throw new IllegalArgumentException("index out of range for the simulation: " + i);
    }
    if (i >= values.length) {
      int n = values.length;
      while (n <= i) {
        n *= 2;
      }
      int old = values.length;
      values = Arrays.copyOf(values, n);
      Arrays.fill(values, old, n, UNSET);
    }
    values[(int) i] = v;
  }
}
