package io.kvorum.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The member's whole log: what {@link Storage} holds plus the {@link Unstable} tail, with the commit
 * and apply positions.
 *
 * <pre>
 *   snapshot/first.....applied....committed....stable-last....unstable-last
 * </pre>
 */
final class RaftLog {
  private final Storage storage;
  final Unstable unstable = new Unstable();
  long committed;
  long applied;
  private final long maxNextEntsSizeBytes;

  RaftLog(Storage storage, long maxNextEntsSizeBytes) {
    this.storage = storage;
    this.maxNextEntsSizeBytes = maxNextEntsSizeBytes;
    long first = storage.firstIndex();
    long last = storage.lastIndex();
    unstable.offset = last + 1;
    committed = first - 1;
    applied = first - 1;
  }

  long committed() {
    return committed;
  }

  long applied() {
    return applied;
  }

  /**
   * Appends {@code ents} after the entry at {@code index} if that entry has {@code logTerm}, cutting
   * off any conflicting suffix. Returns the last index of the new entries, or -1 when the log does
   * not match.
   */
  long maybeAppend(long index, long logTerm, long leaderCommit, List<Entry> ents) {
    if (!matchTerm(index, logTerm)) {
      return -1;
    }
    long lastNew = index + ents.size();
    long ci = findConflict(ents);
    if (ci != 0) {
      Invariants.check(ci > committed, "entry %d conflict with committed entry [committed(%d)]", ci, committed);
      long offset = index + 1;
      append(ents.subList((int) (ci - offset), ents.size()));
    }
    commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  long append(List<Entry> ents) {
    if (ents.isEmpty()) {
      return lastIndex();
    }
    long after = ents.get(0).index() - 1;
    Invariants.check(after >= committed, "after(%d) is out of range [committed(%d)]", after, committed);
    unstable.truncateAndAppend(ents);
    return lastIndex();
  }

  /** The first entry whose term differs from ours (or that we lack), or 0 if all match. */
  long findConflict(List<Entry> ents) {
    for (Entry e : ents) {
      if (!matchTerm(e.index(), e.term())) {
        return e.index();
      }
    }
    return 0;
  }

  /**
   * The largest index at or below {@code index} whose term is at most {@code term}: where a log with
   * {@code term} at {@code index} may match ours. Used to skip whole terms on a rejection.
   */
  long findConflictByTerm(long index, long term) {
    for (; index > 0; index--) {
      long ourTerm;
      try {
        ourTerm = term(index);
      } catch (RaftException.Compacted | RaftException.Unavailable e) {
        return index;
      }
      if (ourTerm <= term) {
        return index;
      }
    }
    return 0;
  }

  List<Entry> unstableEntries() {
    return unstable.entries.isEmpty() ? List.of() : new ArrayList<>(unstable.entries);
  }

  /** Committed entries not yet applied, within the per-Ready byte limit. */
  List<Entry> nextEnts() {
    long off = Math.max(applied + 1, firstIndex());
    if (committed + 1 > off) {
      return slice(off, committed + 1, maxNextEntsSizeBytes);
    }
    return List.of();
  }

  boolean hasNextEnts() {
    long off = Math.max(applied + 1, firstIndex());
    return committed + 1 > off;
  }

  boolean hasPendingSnapshot() {
    return unstable.snapshot != null && !unstable.snapshot.isEmpty();
  }

  Snapshot snapshot() {
    return unstable.snapshot != null ? unstable.snapshot : storage.snapshot();
  }

  long firstIndex() {
    long i = unstable.maybeFirstIndex();
    return i != Unstable.NONE ? i : storage.firstIndex();
  }

  long lastIndex() {
    long i = unstable.maybeLastIndex();
    return i != Unstable.NONE ? i : storage.lastIndex();
  }

  void commitTo(long toCommit) {
    if (committed < toCommit) {
      Invariants.check(lastIndex() >= toCommit,
          "tocommit(%d) is out of range [lastIndex(%d)]. Was the raft log corrupted, truncated, or lost?",
          toCommit, lastIndex());
      committed = toCommit;
    }
  }

  void appliedTo(long i) {
    if (i == 0) {
      return;
    }
    Invariants.check(committed >= i && i >= applied, "applied(%d) is out of range [prevApplied(%d), committed(%d)]",
        i, applied, committed);
    applied = i;
  }

  void stableTo(long i, long t) {
    unstable.stableTo(i, t);
  }

  void stableSnapTo(long i) {
    unstable.stableSnapTo(i);
  }

  long lastTerm() {
    return termOrZero(lastIndex());
  }

  /**
   * The term of entry {@code i}; 0 outside [first-1, last].
   *
   * @throws RaftException.Compacted or RaftException.Unavailable from storage
   */
  long term(long i) {
    long dummy = firstIndex() - 1;
    if (i < dummy || i > lastIndex()) {
      return 0;
    }
    long t = unstable.maybeTerm(i);
    if (t != Unstable.NONE) {
      return t;
    }
    return storage.term(i);
  }

  long termOrZero(long i) {
    try {
      return term(i);
    } catch (RaftException.Compacted | RaftException.Unavailable e) {
      return 0;
    }
  }

  /** Entries from {@code i} to the end, within {@code maxSize} bytes. */
  List<Entry> entries(long i, long maxSize) {
    if (i > lastIndex()) {
      return List.of();
    }
    return slice(i, lastIndex() + 1, maxSize);
  }

  /** For tests: entries in [lo, hi), or empty if compacted. */
  List<Entry> entriesOrEmpty(long lo, long hi) {
    try {
      return slice(lo, Math.min(hi, lastIndex() + 1), Long.MAX_VALUE);
    } catch (RaftException.Compacted e) {
      return List.of();
    }
  }

  /** True if a log ending at ({@code lasti}, {@code term}) is at least as up to date as ours. */
  boolean isUpToDate(long lasti, long term) {
    long lastTerm = lastTerm();
    return term > lastTerm || (term == lastTerm && lasti >= lastIndex());
  }

  boolean matchTerm(long i, long term) {
    try {
      return term(i) == term;
    } catch (RaftException.Compacted | RaftException.Unavailable e) {
      return false;
    }
  }

  /** Commits up to {@code maxIndex} if that entry is of {@code term} (Raft §5.4.2). */
  boolean maybeCommit(long maxIndex, long term) {
    if (maxIndex > committed && termOrZero(maxIndex) == term) {
      commitTo(maxIndex);
      return true;
    }
    return false;
  }

  void restore(Snapshot s) {
    committed = s.index();
    unstable.restore(s);
  }

  /** Entries in [lo, hi) within {@code maxSize} bytes (at least one). */
  List<Entry> slice(long lo, long hi, long maxSize) {
    long fi = firstIndex();
    if (lo < fi) {
      throw new RaftException.Compacted();
    }
    long length = lastIndex() + 1 - fi;
    Invariants.check(lo <= hi && hi <= fi + length, "slice[%d,%d) out of bound [%d,%d]", lo, hi, fi, lastIndex());
    if (lo == hi) {
      return List.of();
    }
    List<Entry> ents = null;
    long off = unstable.offset;
    if (lo < off) {
      List<Entry> stored;
      try {
        stored = storage.entries(lo, Math.min(hi, off), maxSize);
      } catch (RaftException.Unavailable e) {
        throw new IllegalStateException(
            "entries[" + lo + ":" + Math.min(hi, off) + ") is unavailable from storage", e);
      }
      if (stored.size() < Math.min(hi, off) - lo) {
        return stored;
      }
      ents = stored;
    }
    if (hi > off) {
      List<Entry> uns = unstable.slice(Math.max(lo, off), hi);
      if (ents != null && !ents.isEmpty()) {
        List<Entry> combined = new ArrayList<>(ents.size() + uns.size());
        combined.addAll(ents);
        combined.addAll(uns);
        ents = combined;
      } else {
        ents = uns;
      }
    }
    return MemoryStorage.limitSize(ents, maxSize);
  }
}
