package io.kvorum.server.watch;

import com.google.protobuf.ByteString;
import io.kvorum.server.mvcc.KeyRange;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The synced watchers of key ranges (not single keys), grouped by range, answering "which ranges
 * contain this key" in O(log n + matches) with a static interval structure: ranges sorted by start
 * and a segment tree of their largest end, rebuilt on the next query after a change (watchers come
 * and go far less often than events arrive). Hub thread only.
 */
final class RangeIndex {
  private static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();

  private final Map<KeyRange, List<Watcher>> groups = new LinkedHashMap<>();
  private boolean dirty;
  private KeyRange[] sorted = new KeyRange[0];
  private List<List<Watcher>> lists = new ArrayList<>();
  /** Segment tree over {@link #sorted}: the largest end below each node; null means no bound. */
  private ByteString[] maxEnd = new ByteString[0];
  private int leaves;

  boolean isEmpty() {
    return groups.isEmpty();
  }

  void add(Watcher w) {
    groups.computeIfAbsent(w.range, k -> {
      dirty = true;
      return new ArrayList<>(1);
    }).add(w);
  }

  void remove(Watcher w) {
    List<Watcher> ws = groups.get(w.range);
    if (ws == null) {
      return;
    }
    ws.remove(w);
    if (ws.isEmpty()) {
      groups.remove(w.range);
      dirty = true;
    }
  }

  /** Every group of watchers (for moving them all elsewhere). */
  Collection<List<Watcher>> all() {
    return groups.values();
  }

  void clear() {
    groups.clear();
    dirty = true;
  }

  /** Calls {@code out} with the watchers of every range that contains {@code key}. */
  void stab(ByteString key, Consumer<List<Watcher>> out) {
    if (groups.isEmpty()) {
      return;
    }
    if (dirty) {
      rebuild();
    }
    // Ranges starting at or before the key: a prefix of the sorted array.
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ORDER.compare(sorted[mid].key(), key) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo > 0) {
      collect(1, 0, leaves, lo, key, out);
    }
  }

  /** Visits node {@code node} covering leaves [from, to), limited to leaves below {@code limit}. */
  private void collect(int node, int from, int to, int limit, ByteString key, Consumer<List<Watcher>> out) {
    if (from >= limit || !endsAfter(maxEnd[node], key)) {
      return;
    }
    if (to - from == 1) {
      out.accept(lists.get(from));
      return;
    }
    int mid = (from + to) >>> 1;
    collect(2 * node, from, mid, limit, key, out);
    collect(2 * node + 1, mid, to, limit, key, out);
  }

  /** Whether a range ending at {@code end} (null: unbounded) ends after {@code key}. */
  private static boolean endsAfter(ByteString end, ByteString key) {
    return end == null || ORDER.compare(end, key) > 0;
  }

  private void rebuild() {
    dirty = false;
    sorted = groups.keySet().toArray(new KeyRange[0]);
    java.util.Arrays.sort(sorted, (a, b) -> ORDER.compare(a.key(), b.key()));
    lists = new ArrayList<>(sorted.length);
    for (KeyRange r : sorted) {
      lists.add(groups.get(r));
    }
    leaves = 1;
    while (leaves < sorted.length) {
      leaves *= 2;
    }
    maxEnd = new ByteString[2 * leaves];
    ByteString empty = ByteString.EMPTY;
    for (int i = 0; i < leaves; i++) {
      // Padding leaves end at the smallest key: they never match.
      maxEnd[leaves + i] = i < sorted.length ? (sorted[i].isUnbounded() ? null : sorted[i].end()) : empty;
    }
    for (int n = leaves - 1; n >= 1; n--) {
      ByteString a = maxEnd[2 * n];
      ByteString b = maxEnd[2 * n + 1];
      maxEnd[n] = a == null || b == null ? null : (ORDER.compare(a, b) >= 0 ? a : b);
    }
  }
}
