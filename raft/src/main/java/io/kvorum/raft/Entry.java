package io.kvorum.raft;

import java.util.Arrays;

/**
 * One log entry. {@code data} is never copied by raft: the caller hands it over and must not change
 * it afterwards.
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
  /** Bytes of bookkeeping counted per entry on top of its payload in every size limit. */
  public static final int OVERHEAD_BYTES = 24;

  private static final byte[] EMPTY = new byte[0];

  public Entry {
    if (type == null) {
      type = EntryType.NORMAL;
    }
    if (data == null) {
      data = EMPTY;
    }
  }

  public static Entry normal(long term, long index, byte[] data) {
    return new Entry(term, index, EntryType.NORMAL, data);
  }

  /** The size this entry counts for in message and uncommitted-log byte limits. */
  public long sizeBytes() {
    return (long) data.length + OVERHEAD_BYTES;
  }

  /** The same entry at another index and term (used when a leader appends a proposal). */
  Entry at(long newTerm, long newIndex) {
    return new Entry(newTerm, newIndex, type, data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e
        && e.term == term
        && e.index == index
        && e.type == type
        && Arrays.equals(e.data, data);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(index) * 31 + Long.hashCode(term);
  }

  @Override
  public String toString() {
    return "Entry{" + term + "/" + index + " " + type + " " + data.length + "B}";
  }
}
