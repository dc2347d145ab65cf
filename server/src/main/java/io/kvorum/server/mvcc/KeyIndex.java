package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;

/**
 * The revisions of one key, as etcd's {@code keyIndex}: a list of generations, each the life of the
 * key from a creation to a deletion. Deleting the key appends the tombstone's revision to the
 * current generation and starts a new, empty one. For example put(2), put(3), delete(4), put(6),
 * delete(7) give
 *
 * <pre>
 *   {2_0, 3_0, 4_0(t)}  {6_0, 7_0(t)}  {}      (oldest first; the last one is the current)
 * </pre>
 *
 * <p><b>Sizes.</b> Each revision also carries the bytes its record takes in the backend (revision
 * key plus stored key-value), so that the store's logical size ({@link Index#bytes}) follows every
 * write and falls at compaction by exactly what the compaction drops, on the writer thread and the
 * same on every member that applied the same entries.
 *
 * <p><b>Immutable.</b> Every change returns a new object, which the single writer publishes in the
 * {@link Index}'s map; readers use whichever object they found without locks. To keep appends O(1)
 * amortised (a hot key may gather many revisions between compactions), revisions and generations
 * live in append-only arrays shared by successive versions, like Go slices: a view sees only the
 * first {@code count} slots, and the writer only ever fills slots past every published view's end.
 */
final class KeyIndex {
  /** What {@link #get} found: the revision read, the generation's creation and the version. */
  record Found(Revision modified, long createRevision, long version) {}

  private final ByteString key;
  private final long modifiedMain;
  private final long modifiedSub;
  private final GenerationBuffer past;
  private final int pastFrom;
  private final int pastCount;
  private final Generation current;

  private KeyIndex(
      ByteString key,
      long modifiedMain,
      long modifiedSub,
      GenerationBuffer past,
      int pastFrom,
      int pastCount,
      Generation current) {
    this.key = key;
    this.modifiedMain = modifiedMain;
    this.modifiedSub = modifiedSub;
    this.past = past;
    this.pastFrom = pastFrom;
    this.pastCount = pastCount;
    this.current = current;
  }

  /** A key first written at {@code main_sub}, whose record takes {@code bytes}. */
  static KeyIndex created(ByteString key, long main, long sub, long bytes) {
    return new KeyIndex(key, main, sub, GenerationBuffer.NONE, 0, 0, Generation.start(main, sub, bytes));
  }

  /**
   * A key rebuilt from the backend, whose oldest stored revision {@code main_sub} (a record of
   * {@code bytes}) is a live one with {@code version} in a generation created at {@code
   * createRevision}.
   */
  static KeyIndex restored(ByteString key, long createRevision, long main, long sub, long version, long bytes) {
    Generation g = Generation.start(main, sub, bytes).withCreated(createRevision, version);
    return new KeyIndex(key, main, sub, GenerationBuffer.NONE, 0, 0, g);
  }

  ByteString key() {
    return key;
  }

  Revision modified() {
    return new Revision(modifiedMain, modifiedSub);
  }

  /** True if the key was deleted at its last revision. */
  boolean isDeleted() {
    return current.isEmpty();
  }

  /** True if nothing is left: no past generation and an empty current one. */
  boolean isEmpty() {
    return pastCount == 0 && current.isEmpty();
  }

  private int generationCount() {
    return pastCount + 1;
  }

  private Generation generation(int i) {
    return i < pastCount ? past.slots[pastFrom + i] : current;
  }

  /** Bytes the records of every revision this key still holds take in the backend. */
  long bytes() {
    long total = 0;
    for (int i = 0; i < generationCount(); i++) {
      total += generation(i).bytes();
    }
    return total;
  }

  /**
   * This key with a write at {@code main_sub} (a record of {@code bytes}), which must be newer than
   * every revision so far.
   */
  KeyIndex put(long main, long sub, long bytes) {
    checkNewer(main, sub);
    Generation g = current.isEmpty() ? Generation.start(main, sub, bytes) : current.append(main, sub, bytes);
    return new KeyIndex(key, main, sub, past, pastFrom, pastCount, g);
  }

  /** This key deleted at {@code main_sub} (a tombstone record of {@code bytes}); the key must be live. */
  KeyIndex tombstone(long main, long sub, long bytes) {
    checkNewer(main, sub);
    Invariants.check(
        !current.isEmpty(), "tombstone at %d_%d on deleted key %s", main, sub, key.toStringUtf8());
    Generation closed = current.append(main, sub, bytes);
    GenerationBuffer buf = past;
    int from = pastFrom;
    if (!buf.canAppendAfter(from + pastCount)) {
      buf = past.copy(from, pastCount, Math.max(2, pastCount * 2));
      from = 0;
    }
    buf.slots[from + pastCount] = closed;
    buf.used = from + pastCount + 1;
    return new KeyIndex(key, main, sub, buf, from, pastCount + 1, Generation.EMPTY);
  }

  private void checkNewer(long main, long sub) {
    Invariants.check(
        main > modifiedMain || (main == modifiedMain && sub > modifiedSub),
        "revision %d_%d not newer than %d_%d of key %s",
        main,
        sub,
        modifiedMain,
        modifiedSub,
        key.toStringUtf8());
  }

  /**
   * The newest revision at or before {@code atRev} while the key was live, or null if the key did
   * not exist then (never created, deleted, or compacted away).
   */
  Found get(long atRev) {
    Generation g = findGeneration(atRev);
    if (g == null) {
      return null;
    }
    int n = g.lastAtOrBelow(atRev);
    if (n < 0) {
      return null;
    }
    return new Found(g.revision(n), g.created, g.ver - (g.count - n - 1));
  }

  private Generation findGeneration(long atRev) {
    int last = generationCount() - 1;
    for (int i = last; i >= 0; i--) {
      Generation g = generation(i);
      if (g.isEmpty()) {
        continue;
      }
      if (i != last && g.lastMain() <= atRev) {
        // That generation ended with a deletion at or before atRev.
        return null;
      }
      if (g.firstMain() <= atRev) {
        return g;
      }
    }
    return null;
  }

  /**
   * The revisions of this key from main revision {@code rev} on, keeping only the last change of
   * each main revision, oldest first (etcd's {@code since}, for watchers catching up).
   */
  List<Revision> since(long rev) {
    int gi = generationCount() - 1;
    for (; gi > 0; gi--) {
      Generation g = generation(gi);
      if (g.isEmpty()) {
        continue;
      }
      if (rev > g.created) {
        break;
      }
    }
    List<Revision> out = new ArrayList<>();
    long last = 0;
    for (; gi < generationCount(); gi++) {
      Generation g = generation(gi);
      for (int i = 0; i < g.count; i++) {
        long m = g.main(i);
        if (m < rev) {
          continue;
        }
        if (m == last) {
          out.set(out.size() - 1, g.revision(i));
          continue;
        }
        out.add(g.revision(i));
        last = m;
      }
    }
    return out;
  }

  /**
   * This key compacted at {@code atRev}: every revision at or before {@code atRev} is dropped except
   * the newest one of a generation still live at {@code atRev}, which is added to {@code kept};
   * generations that ended at or before {@code atRev} are dropped whole.
   *
   * @return this object if nothing changed, null if nothing is left, else the compacted key
   */
  KeyIndex compact(long atRev, List<Revision> kept) {
    int n = generationCount();
    int gi = firstGenerationLiveAfter(atRev);
    Generation g = generation(gi);
    int revIndex = g.lastAtOrBelow(atRev);
    Generation trimmed = g;
    boolean drop = false;
    if (!g.isEmpty()) {
      if (revIndex > 0) {
        trimmed = g.trimFront(revIndex);
      }
      // A generation left with only its tombstone is gone, unless it is the current one.
      drop = trimmed.count == 1 && gi != n - 1;
    }
    if (revIndex >= 0 && !drop) {
      kept.add(g.revision(revIndex));
    }
    if (gi == 0 && trimmed == g && !drop) {
      return this;
    }
    if (gi == n - 1) {
      // Only the current generation is left.
      if (trimmed.isEmpty()) {
        return null;
      }
      return new KeyIndex(key, modifiedMain, modifiedSub, GenerationBuffer.NONE, 0, 0, trimmed);
    }
    int restFrom = gi + 1;
    int restCount = pastCount - restFrom;
    int newCount = restCount + (drop ? 0 : 1);
    GenerationBuffer buf = new GenerationBuffer(Math.max(2, newCount));
    int at = 0;
    if (!drop) {
      buf.slots[at++] = trimmed;
    }
    for (int i = restFrom; i < pastCount; i++) {
      buf.slots[at++] = generation(i);
    }
    buf.used = at;
    KeyIndex out = new KeyIndex(key, modifiedMain, modifiedSub, buf, 0, newCount, current);
    return out.isEmpty() ? null : out;
  }

  /**
   * Adds to {@code kept} the revision a compaction at {@code atRev} would keep for this key, if any
   * (etcd's {@code keep}), without changing anything.
   */
  void keep(long atRev, List<Revision> kept) {
    if (isEmpty()) {
      return;
    }
    int gi = firstGenerationLiveAfter(atRev);
    Generation g = generation(gi);
    int revIndex = g.lastAtOrBelow(atRev);
    if (revIndex < 0) {
      return;
    }
    if (revIndex == g.count - 1 && gi != generationCount() - 1) {
      return; // a tombstone
    }
    kept.add(g.revision(revIndex));
  }

  /** Index of the first generation that did not end at or before {@code atRev}. */
  private int firstGenerationLiveAfter(long atRev) {
    int gi = 0;
    int last = generationCount() - 1;
    while (gi < last && generation(gi).lastMain() <= atRev) {
      gi++;
    }
    return gi;
  }

  /** Value equality (key, last modification, every generation); for tests and checks. */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof KeyIndex k)) {
      return false;
    }
    if (!key.equals(k.key)
        || modifiedMain != k.modifiedMain
        || modifiedSub != k.modifiedSub
        || generationCount() != k.generationCount()) {
      return false;
    }
    for (int i = 0; i < generationCount(); i++) {
      if (!generation(i).sameAs(k.generation(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + Long.hashCode(modifiedMain);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(key.toStringUtf8()).append(' ');
    for (int i = 0; i < generationCount(); i++) {
      sb.append(generation(i));
    }
    return sb.toString();
  }

  /**
   * One life of the key: created at {@code created}, with {@code ver} writes so far (compaction
   * drops revisions but not the count), and its revisions oldest first, each with its record's
   * size.
   */
  static final class Generation {
    static final Generation EMPTY = new Generation(0, 0, RevisionBuffer.NONE, 0, 0);

    final long created;
    final long ver;
    private final RevisionBuffer buf;
    private final int from;
    final int count;

    private Generation(long created, long ver, RevisionBuffer buf, int from, int count) {
      this.created = created;
      this.ver = ver;
      this.buf = buf;
      this.from = from;
      this.count = count;
    }

    static Generation start(long main, long sub, long bytes) {
      RevisionBuffer b = new RevisionBuffer(2);
      b.set(0, main, sub, bytes);
      b.used = 1;
      return new Generation(main, 1, b, 0, 1);
    }

    Generation withCreated(long createdMain, long version) {
      return new Generation(createdMain, version, buf, from, count);
    }

    boolean isEmpty() {
      return count == 0;
    }

    long main(int i) {
      return buf.pairs[2 * (from + i)];
    }

    long sub(int i) {
      return buf.sub(from + i);
    }

    /** Bytes the record of revision {@code i} takes in the backend. */
    long bytes(int i) {
      return buf.bytes(from + i);
    }

    /** Bytes the records of all its revisions take. */
    long bytes() {
      long total = 0;
      for (int i = 0; i < count; i++) {
        total += bytes(i);
      }
      return total;
    }

    Revision revision(int i) {
      return new Revision(main(i), sub(i));
    }

    long firstMain() {
      return main(0);
    }

    long lastMain() {
      return main(count - 1);
    }

    Generation append(long main, long sub, long bytes) {
      RevisionBuffer b = buf;
      int f = from;
      if (!b.canAppendAfter(f + count)) {
        b = buf.copy(f, count, Math.max(2, count * 2));
        f = 0;
      }
      b.set(f + count, main, sub, bytes);
      b.used = f + count + 1;
      return new Generation(created, ver + 1, b, f, count + 1);
    }

    /** The revisions from index {@code i} on, in a fresh array so the dropped ones can be freed. */
    Generation trimFront(int i) {
      int n = count - i;
      return new Generation(created, ver, buf.copy(from + i, n, n), 0, n);
    }

    /** Largest index whose main revision is at or before {@code atRev}, or -1. */
    int lastAtOrBelow(long atRev) {
      int lo = 0;
      int hi = count - 1;
      int found = -1;
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        if (main(mid) <= atRev) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return found;
    }

    boolean sameAs(Generation o) {
      if (count != o.count || ver != o.ver || (count > 0 && created != o.created)) {
        return false;
      }
      for (int i = 0; i < count; i++) {
        if (main(i) != o.main(i) || sub(i) != o.sub(i) || bytes(i) != o.bytes(i)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("{c=").append(created).append(" v=").append(ver);
      for (int i = 0; i < count; i++) {
        sb.append(' ').append(main(i)).append('_').append(sub(i));
      }
      return sb.append('}').toString();
    }
  }

  /**
   * Append-only storage of revision pairs shared by successive generation views. {@code used} is
   * read and written by the writer thread only; readers never look past their view's count.
   *
   * <p>Slot {@code 2i} holds revision i's main revision; slot {@code 2i + 1} its sub revision in
   * the low 32 bits and its record's size in the high 32 bits (both fit: a sub revision counts the
   * changes of one entry, and a record is bounded by the request size), so sizes cost no memory.
   */
  private static final class RevisionBuffer {
    static final RevisionBuffer NONE = new RevisionBuffer(0);
    private static final long LOW_32_BITS = 0xFFFF_FFFFL;

    final long[] pairs;
    int used;

    RevisionBuffer(int capacity) {
      this.pairs = new long[2 * capacity];
    }

    boolean canAppendAfter(int end) {
      return used == end && 2 * (end + 1) <= pairs.length;
    }

    void set(int i, long main, long sub, long bytes) {
      if ((sub & ~LOW_32_BITS) != 0 || (bytes & ~LOW_32_BITS) != 0) {
        Invariants.check(false, "revision %d_%d with a record of %d bytes does not fit", main, sub, bytes);
      }
      pairs[2 * i] = main;
      pairs[2 * i + 1] = bytes << 32 | sub;
    }

    long sub(int i) {
      return pairs[2 * i + 1] & LOW_32_BITS;
    }

    long bytes(int i) {
      return pairs[2 * i + 1] >>> 32;
    }

    RevisionBuffer copy(int from, int count, int capacity) {
      RevisionBuffer b = new RevisionBuffer(Math.max(capacity, count));
      System.arraycopy(pairs, 2 * from, b.pairs, 0, 2 * count);
      b.used = count;
      return b;
    }
  }

  /** Append-only storage of past generations, shared like {@link RevisionBuffer}. */
  private static final class GenerationBuffer {
    static final GenerationBuffer NONE = new GenerationBuffer(0);

    final Generation[] slots;
    int used;

    GenerationBuffer(int capacity) {
      this.slots = new Generation[capacity];
    }

    boolean canAppendAfter(int end) {
      return used == end && end + 1 <= slots.length;
    }

    GenerationBuffer copy(int from, int count, int capacity) {
      GenerationBuffer b = new GenerationBuffer(Math.max(capacity, count + 1));
      System.arraycopy(slots, from, b.slots, 0, count);
      b.used = count;
      return b;
    }
  }
}
