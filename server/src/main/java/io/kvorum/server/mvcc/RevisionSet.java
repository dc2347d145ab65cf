package io.kvorum.server.mvcc;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable set of revisions: what a compaction keeps. Sorted, so physical compaction (which
 * walks revisions in order) and hashing test membership by binary search without a hash table.
 */
final class RevisionSet {
  static final RevisionSet EMPTY = new RevisionSet(new Revision[0]);

  private final Revision[] sorted;

  private RevisionSet(Revision[] sorted) {
    this.sorted = sorted;
  }

  static RevisionSet of(List<Revision> revisions) {
    Revision[] a = revisions.toArray(new Revision[0]);
    Arrays.sort(a);
    return new RevisionSet(a);
  }

  boolean contains(Revision r) {
    return Arrays.binarySearch(sorted, r) >= 0;
  }

  boolean isEmpty() {
    return sorted.length == 0;
  }

  int size() {
    return sorted.length;
  }

  @Override
  public String toString() {
    return Arrays.toString(sorted);
  }
}
