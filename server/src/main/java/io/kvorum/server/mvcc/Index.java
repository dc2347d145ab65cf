package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The in-memory index of every key's revisions (etcd's {@code treeIndex}): key to {@link KeyIndex},
 * in key order.
 *
 * <p><b>Concurrency.</b> One writer thread changes it ({@link #put}, {@link #tombstone},
 * {@link #compact}); any number of readers call {@link #get}, {@link #range} and {@link #keep}
 * without locks. The map is a {@link ConcurrentSkipListMap} whose values are immutable and replaced
 * whole, so a reader asking at revision {@code R} gets the right answer whichever version of a key
 * it finds, as long as {@code R} is not below the compaction revision: newer versions only add
 * revisions above {@code R}, and compaction only removes revisions no reader at or above the
 * compaction revision needs. Readers below it must re-check the compaction revision after
 * reading (see {@code KvStore}).
 */
final class Index {
  /** Receives the keys of a range that are live at the revision asked for, in key order. */
  @FunctionalInterface
  interface Visitor {
    /** Returns false to stop. */
    boolean visit(ByteString key, KeyIndex.Found found);
  }

  /** Replaced whole when the store is rebuilt; a reader keeps the map it started with. */
  private volatile ConcurrentSkipListMap<ByteString, KeyIndex> keys = newMap();
  /** Keys live at the newest revision (etcd's keys gauge); written by the writer thread only. */
  private volatile long liveKeys;
  /** Sum of {@link KeyIndex#bytes} over every key; written by the writer only. */
  private volatile long bytes;

  static ConcurrentSkipListMap<ByteString, KeyIndex> newMap() {
    return new ConcurrentSkipListMap<>(KeyRange.ORDER);
  }

  /** The newest revision of {@code key} at or before {@code atRev}, or null if it was not live. */
  KeyIndex.Found get(ByteString key, long atRev) {
    KeyIndex ki = keys.get(key);
    return ki == null ? null : ki.get(atRev);
  }

  /** Visits the keys of {@code range} live at {@code atRev}. */
  void range(KeyRange range, long atRev, Visitor visitor) {
    if (range.isSingle()) {
      KeyIndex.Found f = get(range.key(), atRev);
      if (f != null) {
        visitor.visit(range.key(), f);
      }
      return;
    }
    for (KeyIndex ki : slice(range).values()) {
      KeyIndex.Found f = ki.get(atRev);
      if (f != null && !visitor.visit(ki.key(), f)) {
        return;
      }
    }
  }

  private NavigableMap<ByteString, KeyIndex> slice(KeyRange range) {
    if (range.isUnbounded()) {
      return keys.tailMap(range.key(), true);
    }
    if (KeyRange.ORDER.compare(range.key(), range.end()) >= 0) {
      return new ConcurrentSkipListMap<>(KeyRange.ORDER);
    }
    return keys.subMap(range.key(), true, range.end(), false);
  }

  /**
   * Records a write of {@code key} at {@code main_sub}, whose record takes {@code recordBytes} in
   * the backend. Writer thread only.
   */
  void put(ByteString key, long main, long sub, long recordBytes) {
    KeyIndex ki = keys.get(key);
    if (ki == null || ki.isDeleted()) {
      liveKeys = liveKeys + 1;
    }
    if (ki == null) {
      // The index outlives requests; hold a copy of exactly the key, not a view into a request or
      // a stored value that happens to contain it.
      ByteString own = ByteString.copyFrom(key.asReadOnlyByteBuffer());
      keys.put(own, KeyIndex.created(own, main, sub, recordBytes));
    } else {
      keys.put(ki.key(), ki.put(main, sub, recordBytes));
    }
    bytes += recordBytes;
  }

  /**
   * Records the deletion of the live key {@code key} at {@code main_sub}, whose tombstone record
   * takes {@code recordBytes}. Writer thread only.
   */
  void tombstone(ByteString key, long main, long sub, long recordBytes) {
    KeyIndex ki = keys.get(key);
    Invariants.check(ki != null, "tombstone of unknown key %s", key.toStringUtf8());
    keys.put(ki.key(), ki.tombstone(main, sub, recordBytes));
    liveKeys = liveKeys - 1;
    bytes += recordBytes;
  }

  /**
   * Compacts every key at {@code atRev} and returns the revisions at or before it that must stay in
   * the backend; {@link #bytes} falls by the records dropped. Writer thread only.
   */
  RevisionSet compact(long atRev) {
    List<Revision> kept = new ArrayList<>();
    long freed = 0;
    Iterator<Map.Entry<ByteString, KeyIndex>> it = keys.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<ByteString, KeyIndex> e = it.next();
      KeyIndex ki = e.getValue();
      KeyIndex compacted = ki.compact(atRev, kept);
      if (compacted == null) {
        Invariants.check(keys.remove(e.getKey(), ki), "key changed during compaction");
        freed += ki.bytes();
      } else if (compacted != ki) {
        Invariants.check(keys.replace(e.getKey(), ki, compacted), "key changed during compaction");
        freed += ki.bytes() - compacted.bytes();
      }
    }
    bytes -= freed;
    return RevisionSet.of(kept);
  }

  /**
   * Bytes the records of every revision in the index take in the backend (revision keys and stored
   * key-values, tombstones included): the key space's logical size. It depends only on the
   * revisions written and compacted, so members that applied the same entries agree on it,
   * whatever their backend files look like.
   */
  long bytes() {
    return bytes;
  }

  /** The revisions a compaction at {@code atRev} would keep (etcd's {@code Keep}). */
  RevisionSet keep(long atRev) {
    List<Revision> kept = new ArrayList<>();
    for (KeyIndex ki : keys.values()) {
      ki.keep(atRev, kept);
    }
    return RevisionSet.of(kept);
  }

  /** Revisions of keys in {@code range} from main revision {@code rev} on, in revision order. */
  List<Revision> rangeSince(KeyRange range, long rev) {
    List<Revision> out = new ArrayList<>();
    if (range.isSingle()) {
      KeyIndex ki = keys.get(range.key());
      return ki == null ? out : ki.since(rev);
    }
    for (KeyIndex ki : slice(range).values()) {
      out.addAll(ki.since(rev));
    }
    out.sort(null);
    return out;
  }

  /**
   * Replaces the whole content with {@code rebuilt}, whose records take {@code rebuiltBytes}; this
   * index owns it from now on (writer only).
   */
  void load(ConcurrentSkipListMap<ByteString, KeyIndex> rebuilt, long rebuiltBytes) {
    long live = 0;
    for (KeyIndex ki : rebuilt.values()) {
      if (!ki.isDeleted()) {
        live++;
      }
    }
    keys = rebuilt;
    liveKeys = live;
    bytes = rebuiltBytes;
  }

  /** Number of keys live at the newest revision. */
  long liveCount() {
    return liveKeys;
  }

  /** Number of keys with any revision left (live or deleted but not yet compacted away). */
  int size() {
    return keys.size();
  }

  /** The index entry of {@code key}, or null; for tests. */
  KeyIndex keyIndex(ByteString key) {
    return keys.get(key);
  }

  /** True if both indexes hold equal entries (sizes included) for the same keys; for tests. */
  boolean sameAs(Index other) {
    if (keys.size() != other.keys.size() || bytes != other.bytes) {
      return false;
    }
    for (Map.Entry<ByteString, KeyIndex> e : keys.entrySet()) {
      if (!Objects.equals(e.getValue(), other.keys.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return keys.values().toString();
  }
}
