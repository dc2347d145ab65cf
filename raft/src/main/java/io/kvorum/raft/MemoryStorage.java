package io.kvorum.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link Storage} held in memory: the log after the last snapshot, the snapshot and the hard state.
 * Used by tests and the simulation as the "durable" part of a member, and by the server as the
 * in-memory view of its WAL.
 *
 * <p>{@code ents.get(0)} is a dummy entry carrying the snapshot's index and term, so that
 * {@code term(firstIndex()-1)} always answers.
 */
public final class MemoryStorage implements Storage {
  private HardState hardState = HardState.EMPTY;
  private Snapshot snapshot = Snapshot.EMPTY;
  private final ArrayList<Entry> ents = new ArrayList<>();

  public MemoryStorage() {
    ents.add(new Entry(0, 0, EntryType.NORMAL, null));
  }

  @Override
  public synchronized InitialState initialState() {
    return new InitialState(hardState, snapshot.metadata().confState(), snapshot.index());
  }

  public synchronized HardState hardState() {
    return hardState;
  }

  public synchronized void setHardState(HardState hs) {
    hardState = hs;
  }

  @Override
  public synchronized List<Entry> entries(long lo, long hi, long maxSizeBytes) {
    long offset = ents.get(0).index();
    if (lo <= offset) {
      throw new RaftException.Compacted();
    }
    if (hi > lastIndexLocked() + 1) {
      throw new IllegalArgumentException("entries' hi(" + hi + ") is out of bound lastindex(" + lastIndexLocked() + ")");
    }
    if (ents.size() == 1) {
      throw new RaftException.Unavailable();
    }
    return limitSize(new ArrayList<>(ents.subList((int) (lo - offset), (int) (hi - offset))), maxSizeBytes);
  }

  @Override
  public synchronized long term(long i) {
    long offset = ents.get(0).index();
    if (i < offset) {
      throw new RaftException.Compacted();
    }
    if (i - offset >= ents.size()) {
      throw new RaftException.Unavailable();
    }
    return ents.get((int) (i - offset)).term();
  }

  @Override
  public synchronized long lastIndex() {
    return lastIndexLocked();
  }

  private long lastIndexLocked() {
    return ents.get(0).index() + ents.size() - 1;
  }

  @Override
  public synchronized long firstIndex() {
    return ents.get(0).index() + 1;
  }

  @Override
  public synchronized Snapshot snapshot() {
    return snapshot;
  }

  /** Replaces everything with {@code snap} (a member installing a snapshot from its leader). */
  public synchronized void applySnapshot(Snapshot snap) {
    if (snapshot.index() >= snap.index()) {
      throw new RaftException.SnapOutOfDate();
    }
    snapshot = snap;
    ents.clear();
    ents.add(new Entry(snap.term(), snap.index(), EntryType.NORMAL, null));
  }

  /**
   * Records a snapshot the application made at {@code i} (which must be applied, so at most the
   * last index). Compact the log separately with {@link #compact(long)}.
   */
  public synchronized Snapshot createSnapshot(long i, ConfState cs, byte[] data) {
    if (i <= snapshot.index()) {
      throw new RaftException.SnapOutOfDate();
    }
    long offset = ents.get(0).index();
    if (i > lastIndexLocked()) {
      throw new IllegalArgumentException("snapshot " + i + " is out of bound lastindex(" + lastIndexLocked() + ")");
    }
    snapshot = new Snapshot(new SnapshotMetadata(cs == null ? snapshot.metadata().confState() : cs, i,
        ents.get((int) (i - offset)).term()), data);
    return snapshot;
  }

  /** Drops the entries before {@code compactIndex}; it must not be past the applied index. */
  public synchronized void compact(long compactIndex) {
    long offset = ents.get(0).index();
    if (compactIndex <= offset) {
      throw new RaftException.Compacted();
    }
    if (compactIndex > lastIndexLocked()) {
      throw new IllegalArgumentException("compact " + compactIndex + " is out of bound lastindex(" + lastIndexLocked() + ")");
    }
    int i = (int) (compactIndex - offset);
    Entry head = ents.get(i);
    List<Entry> rest = new ArrayList<>(ents.subList(i + 1, ents.size()));
    ents.clear();
    ents.add(new Entry(head.term(), head.index(), EntryType.NORMAL, null));
    ents.addAll(rest);
  }

  /**
   * Appends entries, replacing any existing suffix from the first new index. Entries at or before
   * the snapshot are ignored.
   */
  public synchronized void append(List<Entry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    long first = firstIndex();
    long last = entries.get(0).index() + entries.size() - 1;
    if (last < first) {
      return;
    }
    List<Entry> es = entries;
    if (first > es.get(0).index()) {
      es = es.subList((int) (first - es.get(0).index()), es.size());
    }
    long offset = es.get(0).index() - ents.get(0).index();
    if (ents.size() > offset) {
      ents.subList((int) offset, ents.size()).clear();
      ents.addAll(es);
    } else if (ents.size() == offset) {
      ents.addAll(es);
    } else {
      throw new IllegalStateException("missing log entry [last: " + lastIndexLocked() + ", append at: " + es.get(0).index() + "]");
    }
  }

  /** Keeps the first entry and then as many as fit in {@code maxSizeBytes}. */
  static List<Entry> limitSize(List<Entry> es, long maxSizeBytes) {
    if (es.isEmpty()) {
      return es;
    }
    long size = es.get(0).sizeBytes();
    int limit = 1;
    for (; limit < es.size(); limit++) {
      size += es.get(limit).sizeBytes();
      if (size > maxSizeBytes) {
        break;
      }
    }
    return limit == es.size() ? es : new ArrayList<>(es.subList(0, limit));
  }
}
