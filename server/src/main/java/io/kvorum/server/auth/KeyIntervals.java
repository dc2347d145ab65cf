package io.kvorum.server.auth;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The key ranges one user may read (or write), merged into disjoint intervals for checks in
 * O(log n) — what etcd keeps in its per-user interval trees ({@code range_perm_cache.go}), with
 * the same answers.
 *
 * <p>Keys compare as etcd's {@code BytesAffineComparable}: unsigned bytes, except that an empty
 * key stands for "after every key". A permission on a single key is the interval {@code [key,
 * key + "\0")}; one with range end {@code "\0"} is open ended. A point is permitted when an
 * interval holds it; a range {@code [begin, end)} when one merged interval covers all of it —
 * intervals that touch or overlap merge, which is etcd's "contiguous cover" test.
 */
final class KeyIntervals {
  static final KeyIntervals NONE = new KeyIntervals(new byte[0][], new byte[0][]);
  private static final byte[] INFINITY = new byte[0];

  private final byte[][] begins;
  private final byte[][] ends;

  private KeyIntervals(byte[][] begins, byte[][] ends) {
    this.begins = begins;
    this.ends = ends;
  }

  /** etcd's affine comparison: an empty array is greater than every other. */
  static int compare(byte[] a, byte[] b) {
    if (a.length == 0) {
      return b.length == 0 ? 0 : 1;
    }
    if (b.length == 0) {
      return -1;
    }
    return Arrays.compareUnsigned(a, b);
  }

  /** The key right after {@code key}: {@code key + "\0"}. */
  static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  /** Builds the merged intervals of permissions given as (key, range end) pairs, etcd's encoding. */
  static final class Builder {
    private final List<byte[][]> intervals = new ArrayList<>();

    /** Adds a permission: an empty range end is the single key, {@code "\0"} is open ended. */
    Builder add(byte[] key, byte[] rangeEnd) {
      byte[] end;
      if (rangeEnd.length == 0) {
        end = successor(key);
      } else if (rangeEnd.length == 1 && rangeEnd[0] == 0) {
        end = INFINITY;
      } else {
        end = rangeEnd;
      }
      intervals.add(new byte[][] {key, end});
      return this;
    }

    KeyIntervals build() {
      if (intervals.isEmpty()) {
        return NONE;
      }
      intervals.sort(Comparator.comparing((byte[][] iv) -> iv[0], KeyIntervals::compare));
      List<byte[]> bs = new ArrayList<>();
      List<byte[]> es = new ArrayList<>();
      byte[] b = intervals.get(0)[0];
      byte[] e = intervals.get(0)[1];
      for (int i = 1; i < intervals.size(); i++) {
        byte[][] iv = intervals.get(i);
        if (compare(iv[0], e) <= 0) {
          if (compare(iv[1], e) > 0) {
            e = iv[1];
          }
        } else {
          bs.add(b);
          es.add(e);
          b = iv[0];
          e = iv[1];
        }
      }
      bs.add(b);
      es.add(e);
      return new KeyIntervals(bs.toArray(new byte[0][]), es.toArray(new byte[0][]));
    }
  }

  /** The index of the last interval that begins at or before {@code key}, or -1. */
  private int floor(byte[] key) {
    int lo = 0;
    int hi = begins.length - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (compare(begins[mid], key) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Whether an interval holds {@code key}. */
  boolean containsKey(byte[] key) {
    int i = floor(key);
    return i >= 0 && compare(key, ends[i]) < 0;
  }

  /**
   * Whether the intervals cover {@code [key, rangeEnd)}; a range end of {@code "\0"} means every key
   * from {@code key} on. An empty range end is the single key {@code key}.
   */
  boolean covers(byte[] key, byte[] rangeEnd) {
    if (rangeEnd.length == 0) {
      return containsKey(key);
    }
    byte[] end = rangeEnd.length == 1 && rangeEnd[0] == 0 ? INFINITY : rangeEnd;
    int i = floor(key);
    return i >= 0 && compare(key, ends[i]) < 0 && compare(end, ends[i]) <= 0;
  }
}
