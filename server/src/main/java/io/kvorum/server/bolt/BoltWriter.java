package io.kvorum.server.bolt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a bbolt database in one pass: top-level buckets in ascending (unsigned byte) name order,
 * each bucket's keys strictly ascending.
 *
 * <p>Design: because keys arrive sorted, each bucket's B+tree is built bottom-up as it streams
 * (a bulk load) instead of by bbolt's insert-and-split. Leaf pages are filled as full as the page
 * size allows and written as soon as the next entry does not fit; each written page contributes
 * one entry (its first key and page id) to the level above, and a level's pending entries are
 * written as a branch page once they fill one, so memory holds at most one page per tree level,
 * however large the file. Page ids are handed out in increasing order, so the file is written
 * front to back; the two meta pages (ids 0 and 1) are written last, after everything they point
 * to is on disk and synced, so an unfinished file has no valid meta and no reader accepts it.
 *
 * <p>What {@code tx.Check()} needs holds by construction: every page id below the high-water mark
 * is written exactly once and is reachable exactly once (metas, the bucket trees, the root bucket
 * tree, and one freelist page that lists nothing because nothing is free). An entry too large for
 * an empty page gets a page of its own with overflow pages; a value is written straight from the
 * caller's buffer, never copied whole. A branch page holds at least two elements before it is
 * closed for size (bbolt's {@code minKeysPerPage}), so every branch level is at most half the one
 * below and the tree always has a single root, even with keys as large as a page. Empty buckets
 * are written inline, as bbolt creates them.
 *
 * <p>Not thread-safe. {@link #close()} without {@link #finish(long)} deletes the file.
 */
public final class BoltWriter implements AutoCloseable {
  public static final int PAGE_SIZE = 4096;
  /** Page sizes this writer accepts (powers of two); bbolt takes the OS page size, 4 KiB on amd64. */
  public static final int PAGE_SIZE_MIN = 1024;
  public static final int PAGE_SIZE_MAX = 65536;

  private final Path file;
  private final FileChannel channel;
  private final int pageSize;
  /** The page being assembled before it is written; reused for every page that fits in one. */
  private final ByteBuffer page;
  private final List<byte[]> bucketNames = new ArrayList<>();
  private final List<byte[]> bucketValues = new ArrayList<>();
  private Tree bucket;
  private long nextPgid = 2;
  private boolean finished;
  private boolean closed;

  /** Creates or truncates {@code file}, for pages of {@link #PAGE_SIZE} bytes. */
  public BoltWriter(Path file) throws IOException {
    this(file, PAGE_SIZE);
  }

  /** Creates or truncates {@code file}, for pages of {@code pageSize} bytes. */
  public BoltWriter(Path file, int pageSize) throws IOException {
    if (!Layout.isPowerOfTwo(pageSize) || pageSize < PAGE_SIZE_MIN || pageSize > PAGE_SIZE_MAX) {
      throw new IllegalArgumentException("page size must be a power of two in [" + PAGE_SIZE_MIN + ", "
          + PAGE_SIZE_MAX + "]: " + pageSize);
    }
    this.file = file;
    this.pageSize = pageSize;
    this.page = ByteBuffer.allocateDirect(pageSize).order(ByteOrder.LITTLE_ENDIAN);
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
  }

  /** Ends the current bucket (if any) and starts the next top-level bucket. */
  public void beginBucket(byte[] name) throws IOException {
    checkOpen();
    checkKey(name, "bucket name");
    if (!bucketNames.isEmpty() && Layout.compare(bucketNames.get(bucketNames.size() - 1), name) >= 0) {
      throw new IllegalArgumentException("bucket names must be strictly ascending");
    }
    endBucket();
    bucketNames.add(name.clone());
    bucket = new Tree(0);
  }

  /** Adds {@code key} with the remaining bytes of {@code value} (its position is left as it was). */
  public void put(byte[] key, ByteBuffer value) throws IOException {
    checkOpen();
    if (bucket == null) {
      throw new IllegalStateException("put before beginBucket");
    }
    checkKey(key, "key");
    if (value.remaining() > Layout.VALUE_BYTES_MAX) {
      throw new IllegalArgumentException("value must be at most " + Layout.VALUE_BYTES_MAX + " bytes: " + value.remaining());
    }
    bucket.add(key, value, value.position(), value.remaining());
  }

  public void put(byte[] key, byte[] value) throws IOException {
    put(key, ByteBuffer.wrap(value));
  }

  /**
   * Ends the last bucket, writes the root bucket, an empty freelist and both meta pages (with
   * {@code txid}), and syncs the file.
   *
   * @return the file's length: the high-water page id times the page size
   */
  public long finish(long txid) throws IOException {
    checkOpen();
    if (txid < 0) {
      throw new IllegalArgumentException("txid must not be negative: " + txid);
    }
    endBucket();
    Tree root = new Tree(Layout.LEAF_FLAG_BUCKET);
    for (int i = 0; i < bucketNames.size(); i++) {
      byte[] v = bucketValues.get(i);
      root.add(bucketNames.get(i), ByteBuffer.wrap(v), 0, v.length);
    }
    long rootPgid = root.finish();
    if (rootPgid == Tree.EMPTY) {
      rootPgid = writeEmptyLeaf();
    }
    long freelistPgid = nextPgid++;
    header(page, freelistPgid, Layout.FLAG_FREELIST, 0, 0);
    writePage(page, freelistPgid);
    long highWater = nextPgid;
    channel.force(true);
    for (int id = 0; id < 2; id++) {
      writeMeta(id, rootPgid, freelistPgid, highWater, txid);
    }
    channel.force(true);
    long size = channel.size();
    if (size != highWater * pageSize) {
      throw new IllegalStateException("file is " + size + " bytes, expected " + highWater * pageSize);
    }
    finished = true;
    channel.close();
    return size;
  }

  /** Closes the file; an unfinished one is deleted. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
      if (!finished) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      // Abandoning: nothing more to do with a file we could not close or delete.
    }
  }

  private void checkOpen() {
    if (finished || closed) {
      throw new IllegalStateException("writer is " + (finished ? "finished" : "closed"));
    }
  }

  private static void checkKey(byte[] key, String what) {
    if (key.length == 0 || key.length > Layout.KEY_BYTES_MAX) {
      throw new IllegalArgumentException(what + " must be 1 to " + Layout.KEY_BYTES_MAX + " bytes: " + key.length);
    }
  }

  private void endBucket() throws IOException {
    if (bucket == null) {
      return;
    }
    long root = bucket.finish();
    ByteBuffer v;
    if (root == Tree.EMPTY) {
      // An empty bucket is inline, as bbolt creates it: header with root 0, then an empty leaf page header.
      v = ByteBuffer.allocate(Layout.BUCKET_HEADER_BYTES + Layout.PAGE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      v.putShort(Layout.BUCKET_HEADER_BYTES + Layout.PAGE_FLAGS, (short) Layout.FLAG_LEAF);
    } else {
      v = ByteBuffer.allocate(Layout.BUCKET_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      v.putLong(0, root);
    }
    bucketValues.add(v.array());
    bucket = null;
  }

  private long writeEmptyLeaf() throws IOException {
    long id = nextPgid++;
    header(page, id, Layout.FLAG_LEAF, 0, 0);
    writePage(page, id);
    return id;
  }

  private void writeMeta(int id, long root, long freelist, long highWater, long txid) throws IOException {
    header(page, id, Layout.FLAG_META, 0, 0);
    int m = Layout.META_OFFSET;
    page.putInt(m + Layout.META_MAGIC_AT, Layout.META_MAGIC);
    page.putInt(m + Layout.META_VERSION_AT, Layout.META_VERSION);
    page.putInt(m + Layout.META_PAGE_SIZE_AT, pageSize);
    page.putInt(m + Layout.META_FLAGS_AT, 0);
    page.putLong(m + Layout.META_ROOT_AT, root);
    page.putLong(m + Layout.META_SEQUENCE_AT, 0);
    page.putLong(m + Layout.META_FREELIST_AT, freelist);
    page.putLong(m + Layout.META_HIGH_WATER_AT, highWater);
    page.putLong(m + Layout.META_TXID_AT, txid);
    page.putLong(m + Layout.META_CHECKSUM_AT, Layout.fnv1a64(page, m, Layout.META_CHECKSUM_AT));
    writePage(page, id);
  }

  /** Zeroes {@code b} and writes a page header at its start. */
  private static void header(ByteBuffer b, long id, int flags, int count, int overflow) {
    b.clear();
    for (int i = 0; i < b.capacity(); i += 8) {
      b.putLong(i, 0);
    }
    b.putLong(Layout.PAGE_ID, id);
    b.putShort(Layout.PAGE_FLAGS, (short) flags);
    b.putShort(Layout.PAGE_COUNT, (short) count);
    b.putInt(Layout.PAGE_OVERFLOW, overflow);
  }

  /** Writes all of {@code b} (its whole capacity) at page {@code id}. */
  private void writePage(ByteBuffer b, long id) throws IOException {
    b.clear();
    writeFully(b, id * pageSize);
  }

  private void writeFully(ByteBuffer b, long position) throws IOException {
    long at = position;
    while (b.hasRemaining()) {
      at += channel.write(b, at);
    }
  }

  private int pagesFor(long bytes) {
    long n = (bytes + pageSize - 1) / pageSize;
    if (n - 1 > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("page run too long: " + bytes + " bytes");
    }
    return (int) n;
  }

  /**
   * One B+tree built bottom-up from sorted entries: the leaf being filled, and per branch level
   * the entries (first key, page id) of the pages below not yet written into a branch page.
   */
  private final class Tree {
    static final long EMPTY = -1;

    private final int leafFlags;
    /** The leaf's keys and values, packed in element order; elements are laid out when it is written. */
    private final ByteBuffer data = ByteBuffer.allocateDirect(pageSize);
    private final int[] ksize = new int[pageSize / Layout.LEAF_ELEMENT_BYTES];
    private final int[] vsize = new int[pageSize / Layout.LEAF_ELEMENT_BYTES];
    private int count;
    private long used = Layout.PAGE_HEADER_BYTES;
    private byte[] firstKey;
    private byte[] lastKey = new byte[0];
    private int lastKeyLength = -1;
    private final List<Level> levels = new ArrayList<>();

    Tree(int leafFlags) {
      this.leafFlags = leafFlags;
    }

    void add(byte[] key, ByteBuffer value, int from, int length) throws IOException {
      if (lastKeyLength >= 0 && Arrays.compareUnsigned(lastKey, 0, lastKeyLength, key, 0, key.length) >= 0) {
        throw new IllegalArgumentException("keys must be strictly ascending within a bucket");
      }
      if (lastKey.length < key.length) {
        lastKey = new byte[Math.max(key.length, 2 * lastKey.length)];
      }
      System.arraycopy(key, 0, lastKey, 0, key.length);
      lastKeyLength = key.length;

      long entry = (long) Layout.LEAF_ELEMENT_BYTES + key.length + length;
      if (count > 0 && used + entry > pageSize) {
        writeLeaf();
      }
      if (Layout.PAGE_HEADER_BYTES + entry > pageSize) {
        writeLargeLeaf(key, value, from, length);
        return;
      }
      if (count == 0) {
        firstKey = key.clone();
      }
      int at = (int) (used - Layout.PAGE_HEADER_BYTES - (long) count * Layout.LEAF_ELEMENT_BYTES);
      data.put(at, key);
      data.put(at + key.length, value, from, length);
      ksize[count] = key.length;
      vsize[count] = length;
      count++;
      used += entry;
    }

    private void writeLeaf() throws IOException {
      long id = nextPgid++;
      header(page, id, Layout.FLAG_LEAF, count, 0);
      int dataAt = Layout.PAGE_HEADER_BYTES + count * Layout.LEAF_ELEMENT_BYTES;
      int p = dataAt;
      for (int i = 0; i < count; i++) {
        int e = Layout.PAGE_HEADER_BYTES + i * Layout.LEAF_ELEMENT_BYTES;
        page.putInt(e, leafFlags);
        page.putInt(e + 4, p - e);
        page.putInt(e + 8, ksize[i]);
        page.putInt(e + 12, vsize[i]);
        p += ksize[i] + vsize[i];
      }
      page.put(dataAt, data, 0, p - dataAt);
      writePage(page, id);
      push(0, firstKey, id);
      count = 0;
      used = Layout.PAGE_HEADER_BYTES;
      firstKey = null;
    }

    /** One entry on a leaf of its own, with overflow pages; the value goes from the caller's buffer to the file. */
    private void writeLargeLeaf(byte[] key, ByteBuffer value, int from, int length) throws IOException {
      int headBytes = Layout.PAGE_HEADER_BYTES + Layout.LEAF_ELEMENT_BYTES + key.length;
      int pages = pagesFor((long) headBytes + length);
      long id = nextPgid;
      nextPgid += pages;
      ByteBuffer head = headBytes <= pageSize ? page
          : ByteBuffer.allocate(pagesFor(headBytes) * pageSize).order(ByteOrder.LITTLE_ENDIAN);
      header(head, id, Layout.FLAG_LEAF, 1, pages - 1);
      int e = Layout.PAGE_HEADER_BYTES;
      head.putInt(e, leafFlags);
      head.putInt(e + 4, Layout.LEAF_ELEMENT_BYTES);
      head.putInt(e + 8, key.length);
      head.putInt(e + 12, length);
      head.put(e + Layout.LEAF_ELEMENT_BYTES, key);
      head.clear().limit(headBytes);
      long at = id * pageSize;
      writeFully(head, at);
      ByteBuffer v = value.duplicate();
      v.limit(from + length).position(from);
      writeFully(v, at + headBytes);
      // The rest of the last page stays a hole (zeros): pages after it are always written, so it is inside the file.
      push(0, key.clone(), id);
    }

    /** Adds a written page's entry to branch level {@code level} (0 = the level just above the leaves). */
    private void push(int level, byte[] key, long pgid) throws IOException {
      if (levels.size() == level) {
        levels.add(new Level());
      }
      Level l = levels.get(level);
      long entry = (long) Layout.BRANCH_ELEMENT_BYTES + key.length;
      if (l.count >= Layout.MIN_KEYS_PER_PAGE && l.bytes + entry > pageSize) {
        writeBranch(level);
      }
      l.add(key, pgid, entry);
    }

    private void writeBranch(int level) throws IOException {
      Level l = levels.get(level);
      int pages = pagesFor(l.bytes);
      long id = nextPgid;
      nextPgid += pages;
      ByteBuffer b = pages == 1 ? page : ByteBuffer.allocate(pages * pageSize).order(ByteOrder.LITTLE_ENDIAN);
      header(b, id, Layout.FLAG_BRANCH, l.count, pages - 1);
      int p = Layout.PAGE_HEADER_BYTES + l.count * Layout.BRANCH_ELEMENT_BYTES;
      for (int i = 0; i < l.count; i++) {
        int e = Layout.PAGE_HEADER_BYTES + i * Layout.BRANCH_ELEMENT_BYTES;
        byte[] k = l.keys.get(i);
        b.putInt(e, p - e);
        b.putInt(e + 4, k.length);
        b.putLong(e + 8, l.ids[i]);
        b.put(p, k);
        p += k.length;
      }
      byte[] first = l.keys.get(0);
      l.clear();
      writePage(b, id);
      push(level + 1, first, id);
    }

    /** Writes what is pending, bottom up; returns the root page id, or {@link #EMPTY} for no entries. */
    long finish() throws IOException {
      if (count > 0) {
        writeLeaf();
      }
      for (int level = 0; level < levels.size(); level++) {
        Level l = levels.get(level);
        if (level == levels.size() - 1 && l.count == 1) {
          return l.ids[0];
        }
        if (l.count > 0) {
          writeBranch(level);
        }
      }
      return EMPTY;
    }
  }

  /** One branch level's pending entries: at most one page's worth (or {@link Layout#MIN_KEYS_PER_PAGE} large keys). */
  private static final class Level {
    final List<byte[]> keys = new ArrayList<>();
    long[] ids = new long[16];
    int count;
    long bytes = Layout.PAGE_HEADER_BYTES;

    void add(byte[] key, long pgid, long entry) {
      if (count == ids.length) {
        ids = Arrays.copyOf(ids, 2 * count);
      }
      keys.add(key);
      ids[count++] = pgid;
      bytes += entry;
    }

    void clear() {
      keys.clear();
      count = 0;
      bytes = Layout.PAGE_HEADER_BYTES;
    }
  }
}
