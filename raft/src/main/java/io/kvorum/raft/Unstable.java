package io.kvorum.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * Log entries (and possibly an incoming snapshot) that raft has accepted but the caller has not yet
 * persisted. {@code entries.get(i)} has index {@code offset + i}.
 */
final class Unstable {
  static final long NONE = -1;

  Snapshot snapshot;
  final ArrayList<Entry> entries = new ArrayList<>();
  long offset;

  /** The first index if a snapshot is pending, else NONE. */
  long maybeFirstIndex() {
    return snapshot != null ? snapshot.index() + 1 : NONE;
  }

  long maybeLastIndex() {
    if (!entries.isEmpty()) {
      return offset + entries.size() - 1;
    }
    return snapshot != null ? snapshot.index() : NONE;
  }

  long maybeTerm(long i) {
    if (i < offset) {
      if (snapshot != null && snapshot.index() == i) {
        return snapshot.term();
      }
      return NONE;
    }
    long last = maybeLastIndex();
    if (last == NONE || i > last) {
      return NONE;
    }
    return entries.get((int) (i - offset)).term();
  }

  /** The caller persisted entries up to {@code i} at term {@code t}. */
  void stableTo(long i, long t) {
    long gt = maybeTerm(i);
    if (gt == NONE) {
      return;
    }
    // Only when the term matches: an entry persisted and then replaced by a newer leader's one
    // stays unstable.
    if (gt == t && i >= offset) {
      entries.subList(0, (int) (i + 1 - offset)).clear();
      offset = i + 1;
    }
  }

  void stableSnapTo(long i) {
    if (snapshot != null && snapshot.index() == i) {
      snapshot = null;
    }
  }

  void restore(Snapshot s) {
    offset = s.index() + 1;
    entries.clear();
    snapshot = s;
  }

  void truncateAndAppend(List<Entry> ents) {
    long after = ents.get(0).index();
    if (after == offset + entries.size()) {
      entries.addAll(ents);
    } else if (after <= offset) {
      // Replaces everything unstable: the log is rewritten from 'after'.
      offset = after;
      entries.clear();
      entries.addAll(ents);
    } else {
      entries.subList((int) (after - offset), entries.size()).clear();
      entries.addAll(ents);
    }
  }

  List<Entry> slice(long lo, long hi) {
    Invariants.check(lo <= hi && lo >= offset && hi <= offset + entries.size(),
        "unstable.slice[%d,%d) out of bound [%d,%d]", lo, hi, offset, offset + entries.size());
    return new ArrayList<>(entries.subList((int) (lo - offset), (int) (hi - offset)));
  }
}
