package io.kvorum.server.bolt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Reads a bbolt database file (etcd's {@code member/snap/db} or a snapshot file without its
 * trailing hash).
 *
 * <p>Design: the file is read with positional reads through one reused window of
 * {@link #WINDOW_BYTES}, so a sequentially written file is read in large sequential chunks and
 * memory stays bounded whatever the file size; a page run larger than the window (an entry with a
 * big value) is mapped read-only instead of copied to the heap. Opening picks the meta as bbolt
 * does: the valid one (magic, version, checksum) with the higher txid, else the other one; the
 * page size comes from meta 0, or, when meta 0 is damaged, from whichever candidate page size
 * puts a valid meta 1 where it says it is. Every page reached is checked before it is trusted: id
 * below the high-water mark and not a meta page, the id in its header, its type, its elements
 * inside the page, and reached only once per walk (a bitmap), so a corrupt file is refused with a
 * {@link BoltFormatException} and can neither loop nor make the reader allocate without bound.
 *
 * <p>Not thread-safe. A {@link Visitor}'s value is valid only during its call, and a visitor must
 * not use this reader.
 */
public final class BoltReader implements AutoCloseable {
  /** The read window: how much of the file is read at once, and the largest page run read into memory. */
  static final int WINDOW_BYTES = 1 << 20;
  /** Tree depth refused as corrupt: a tree of two-element pages this deep would need 2^64 pages. */
  static final int DEPTH_MAX = 64;
  /** Top-level buckets refused beyond this (etcd has about a dozen). */
  static final int BUCKETS_MAX = 1 << 16;

  /** Visits one entry; returns false to stop. */
  public interface Visitor {
    boolean visit(byte[] key, ByteBuffer value) throws IOException;
  }

  private final Path file;
  private final FileChannel channel;
  private final int pageSize;
  private final Meta meta;
  private final List<byte[]> names = new ArrayList<>();
  private final List<byte[]> values = new ArrayList<>();
  private final ByteBuffer window = ByteBuffer.allocateDirect(WINDOW_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private long windowStart = -1;
  private int windowBytes;
  private boolean walking;
  /** Levels of pages (leaf = 1) in the tree the last {@link #forEach} walked; 0 for an inline bucket. */
  int lastHeight;

  private BoltReader(Path file, FileChannel channel, int pageSize, Meta meta) {
    this.file = file;
    this.channel = channel;
    this.pageSize = pageSize;
    this.meta = meta;
  }

  /** Opens {@code file}; a file that is not a valid bbolt database gets a {@link BoltFormatException}. */
  public static BoltReader open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      long size = ch.size();
      int pageSize = pageSize(file, ch, size);
      if (size < 2L * pageSize) {
        throw new BoltFormatException(file + ": file size too small (" + size + " bytes) for two meta pages of "
            + pageSize);
      }
      Meta m0 = Meta.read(ch, 0, pageSize);
      Meta m1 = Meta.read(ch, pageSize, pageSize);
      // As bbolt: the one with the higher txid if it is valid, else the other if that one is.
      Meta a = Long.compareUnsigned(m1.txid, m0.txid) > 0 ? m1 : m0;
      Meta b = a == m1 ? m0 : m1;
      Meta chosen = a.problem == null ? a : b.problem == null ? b : null;
      if (chosen == null) {
        throw new BoltFormatException(file + ": no valid meta page (meta 0: " + m0.problem + "; meta 1: "
            + m1.problem + ")");
      }
      chosen.checkAgainst(file, size, pageSize);
      // From here on nothing is read past the high-water mark, which the check put within the file.
      BoltReader r = new BoltReader(file, ch, pageSize, chosen);
      r.checkFreelist();
      r.loadBuckets();
      return r;
    } catch (IOException | RuntimeException | Error e) {
      ch.close();
      throw e;
    }
  }

  /** The page size: meta 0's if it is valid, else the candidate at which a valid meta 1 names itself. */
  private static int pageSize(Path file, FileChannel ch, long size) throws IOException {
    Meta m0 = Meta.read(ch, 0, 0);
    if (m0.problem == null) {
      return m0.pageSize;
    }
    for (int candidate = Layout.PAGE_SIZE_MIN; candidate <= Layout.PAGE_SIZE_MAX; candidate <<= 1) {
      Meta m1 = Meta.read(ch, candidate, candidate);
      if (m1.problem == null) {
        return candidate;
      }
    }
    throw new BoltFormatException(file + ": not a bbolt file: no valid meta page (meta 0: " + m0.problem
        + "; no valid meta 1 at any page size from " + Layout.PAGE_SIZE_MIN + " to " + Layout.PAGE_SIZE_MAX
        + "; file is " + size + " bytes)");
  }

  public int pageSize() {
    return pageSize;
  }

  public long txid() {
    return meta.txid;
  }

  /** bbolt's {@code tx.Size()}: the high-water page id times the page size. */
  public long sizeBytes() {
    return meta.highWater * pageSize;
  }

  /** Top-level buckets, in order (copies). */
  public List<byte[]> bucketNames() {
    List<byte[]> out = new ArrayList<>(names.size());
    for (byte[] n : names) {
      out.add(n.clone());
    }
    return out;
  }

  public boolean hasBucket(byte[] name) {
    return indexOf(name) >= 0;
  }

  /**
   * Visits the entries of top-level bucket {@code bucket} in key order.
   *
   * @return the number of entries visited
   * @throws BoltFormatException if the bucket holds a nested bucket or its pages are corrupt
   * @throws IllegalArgumentException if there is no such bucket
   */
  public long forEach(byte[] bucket, Visitor v) throws IOException {
    int i = indexOf(bucket);
    if (i < 0) {
      throw new IllegalArgumentException("no bucket " + printable(bucket));
    }
    if (walking) {
      throw new IllegalStateException("forEach called from within a visit");
    }
    walking = true;
    try {
      Walk w = new Walk("bucket " + printable(bucket)) {
        @Override
        boolean entry(int flags, byte[] key, ByteBuffer value) throws IOException {
          if ((flags & Layout.LEAF_FLAG_BUCKET) != 0) {
            throw new BoltFormatException(where + ": nested bucket " + printable(key) + " (not supported)");
          }
          visited++;
          return v.visit(key, value);
        }
      };
      walkBucket(values.get(i), w);
      lastHeight = w.height;
      return w.visited;
    } finally {
      walking = false;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private int indexOf(byte[] name) {
    for (int i = 0; i < names.size(); i++) {
      if (Arrays.equals(names.get(i), name)) {
        return i;
      }
    }
    return -1;
  }

  private void checkFreelist() throws IOException {
    if (meta.freelist == Layout.NO_FREELIST) {
      return;
    }
    ByteBuffer h = page(meta.freelist, "freelist");
    int flags = h.getShort(Layout.PAGE_FLAGS) & 0xFFFF;
    if (flags != Layout.FLAG_FREELIST) {
      throw new BoltFormatException(file + ": freelist page " + meta.freelist + " has type " + type(flags));
    }
  }

  private void loadBuckets() throws IOException {
    Walk w = new Walk("root bucket") {
      @Override
      boolean entry(int flags, byte[] key, ByteBuffer value) throws IOException {
        if ((flags & Layout.LEAF_FLAG_BUCKET) == 0) {
          throw new BoltFormatException(where + ": top-level key " + printable(key) + " is not a bucket");
        }
        if (names.size() == BUCKETS_MAX) {
          throw new BoltFormatException(where + ": more than " + BUCKETS_MAX + " top-level buckets");
        }
        byte[] v = new byte[value.remaining()];
        value.get(v);
        names.add(key);
        values.add(v);
        return true;
      }
    };
    walking = true;
    try {
      w.tree(meta.root, 0);
    } finally {
      walking = false;
    }
  }

  /** Walks a bucket given its value in the parent: a header, then for an inline bucket its page. */
  private void walkBucket(byte[] bucketValue, Walk w) throws IOException {
    if (bucketValue.length < Layout.BUCKET_HEADER_BYTES) {
      throw new BoltFormatException(w.where + ": bucket value of " + bucketValue.length + " bytes");
    }
    ByteBuffer v = ByteBuffer.wrap(bucketValue).order(ByteOrder.LITTLE_ENDIAN);
    long root = v.getLong(0);
    if (root != 0) {
      if (bucketValue.length != Layout.BUCKET_HEADER_BYTES) {
        throw new BoltFormatException(w.where + ": bucket with root page " + root + " has a value of "
            + bucketValue.length + " bytes");
      }
      w.tree(root, 0);
      return;
    }
    ByteBuffer inline = v.position(Layout.BUCKET_HEADER_BYTES).slice().order(ByteOrder.LITTLE_ENDIAN);
    if (inline.capacity() < Layout.PAGE_HEADER_BYTES) {
      throw new BoltFormatException(w.where + ": inline bucket of " + inline.capacity() + " bytes");
    }
    int flags = inline.getShort(Layout.PAGE_FLAGS) & 0xFFFF;
    if (flags != Layout.FLAG_LEAF) {
      throw new BoltFormatException(w.where + ": inline bucket page has type " + type(flags));
    }
    w.leaf(inline, "inline page");
  }

  /**
   * The bytes of page run {@code id} (checked: within the high-water mark, not a meta page, its own
   * id in its header). Returned in the window (valid until the next read) unless larger than it,
   * then mapped.
   */
  private ByteBuffer page(long id, String what) throws IOException {
    if (id < 2 || id >= meta.highWater) {
      throw new BoltFormatException(file + ": " + what + " page id " + id + " outside [2, " + meta.highWater + ")");
    }
    ByteBuffer head = read(id * pageSize, Layout.PAGE_HEADER_BYTES);
    long headerId = head.getLong(Layout.PAGE_ID);
    long overflow = head.getInt(Layout.PAGE_OVERFLOW) & 0xFFFF_FFFFL;
    if (headerId != id) {
      throw new BoltFormatException(file + ": page " + id + " has id " + headerId + " in its header");
    }
    if (id + overflow >= meta.highWater) {
      throw new BoltFormatException(file + ": page " + id + " with " + overflow + " overflow pages passes the high-water mark "
          + meta.highWater);
    }
    long bytes = (overflow + 1) * pageSize;
    if (bytes > Integer.MAX_VALUE) {
      throw new BoltFormatException(file + ": page " + id + " spans " + bytes + " bytes");
    }
    if (bytes <= WINDOW_BYTES) {
      return read(id * pageSize, (int) bytes);
    }
    return channel.map(FileChannel.MapMode.READ_ONLY, id * pageSize, bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** {@code length} (at most the window) bytes at {@code position}, from the window, refilled if needed. */
  private ByteBuffer read(long position, int length) throws IOException {
    if (windowStart < 0 || position < windowStart || position + length > windowStart + windowBytes) {
      long end = sizeBytes();
      int want = (int) Math.min(WINDOW_BYTES, end - position);
      if (want < length) {
        throw new BoltFormatException(file + ": " + length + " bytes at " + position + " pass the end " + end);
      }
      window.clear().limit(want);
      windowStart = -1;
      while (window.hasRemaining()) {
        if (channel.read(window, position + window.position()) < 0) {
          throw new BoltFormatException(file + ": unexpected end of file at " + (position + window.position()));
        }
      }
      windowStart = position;
      windowBytes = want;
    }
    int at = (int) (position - windowStart);
    return window.slice(at, length).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static String type(int flags) {
    switch (flags) {
      case Layout.FLAG_BRANCH:
        return "branch";
      case Layout.FLAG_LEAF:
        return "leaf";
      case Layout.FLAG_META:
        return "meta";
      case Layout.FLAG_FREELIST:
        return "freelist";
      default:
        return String.format("unknown<%02x>", flags);
    }
  }

  static String printable(byte[] b) {
    StringBuilder s = new StringBuilder("\"");
    for (int i = 0; i < Math.min(b.length, 64); i++) {
      int c = b[i] & 0xFF;
      s.append(c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? String.valueOf((char) c) : String.format("\\x%02x", c));
    }
    return s.append(b.length > 64 ? "...\"" : "\"").toString();
  }

  /** One walk of one tree in key order, refusing pages reached twice, keys out of order, and corrupt pages. */
  private abstract class Walk {
    final String where;
    final BitSet seen = new BitSet();
    long visited;
    int height;
    private byte[] previous;
    private boolean stopped;

    Walk(String where) {
      this.where = file + ": " + where;
    }

    abstract boolean entry(int flags, byte[] key, ByteBuffer value) throws IOException;

    void tree(long id, int depth) throws IOException {
      if (depth > DEPTH_MAX) {
        throw new BoltFormatException(where + ": tree deeper than " + DEPTH_MAX + " at page " + id);
      }
      ByteBuffer p = page(id, "tree");
      height = Math.max(height, depth + 1);
      long overflow = p.getInt(Layout.PAGE_OVERFLOW) & 0xFFFF_FFFFL;
      for (long i = id; i <= id + overflow; i++) {
        if (seen.get((int) i)) {
          throw new BoltFormatException(where + ": page " + i + " is referenced more than once");
        }
        seen.set((int) i);
      }
      int flags = p.getShort(Layout.PAGE_FLAGS) & 0xFFFF;
      if (flags == Layout.FLAG_LEAF) {
        leaf(p, "page " + id);
      } else if (flags == Layout.FLAG_BRANCH) {
        branch(p.capacity() <= WINDOW_BYTES ? copy(p) : p, id, depth);
      } else {
        throw new BoltFormatException(where + ": page " + id + " has type " + type(flags) + " inside a bucket");
      }
    }

    /** A copy of a page that lives in the window, which the children's reads will reuse. */
    private ByteBuffer copy(ByteBuffer p) {
      ByteBuffer copy = ByteBuffer.allocate(p.capacity()).order(ByteOrder.LITTLE_ENDIAN);
      copy.put(0, p, 0, p.capacity());
      return copy;
    }

    private void branch(ByteBuffer p, long id, int depth) throws IOException {
      int count = p.getShort(Layout.PAGE_COUNT) & 0xFFFF;
      if (count == 0) {
        throw new BoltFormatException(where + ": branch page " + id + " has no elements");
      }
      checkElements(p, count, Layout.BRANCH_ELEMENT_BYTES, "page " + id);
      for (int i = 0; i < count && !stopped; i++) {
        int e = Layout.PAGE_HEADER_BYTES + i * Layout.BRANCH_ELEMENT_BYTES;
        long child = p.getLong(e + 8);
        tree(child, depth + 1);
      }
    }

    void leaf(ByteBuffer p, String what) throws IOException {
      int count = p.getShort(Layout.PAGE_COUNT) & 0xFFFF;
      checkElements(p, count, Layout.LEAF_ELEMENT_BYTES, what);
      for (int i = 0; i < count && !stopped; i++) {
        int e = Layout.PAGE_HEADER_BYTES + i * Layout.LEAF_ELEMENT_BYTES;
        int flags = p.getInt(e);
        long pos = e + (p.getInt(e + 4) & 0xFFFF_FFFFL);
        long ksize = p.getInt(e + 8) & 0xFFFF_FFFFL;
        long vsize = p.getInt(e + 12) & 0xFFFF_FFFFL;
        if (ksize == 0 || pos + ksize + vsize > p.capacity()) {
          throw new BoltFormatException(where + ": " + what + " element " + i + " (key " + ksize + " bytes, value "
              + vsize + " bytes at " + pos + ") does not fit its " + p.capacity() + " bytes");
        }
        byte[] key = new byte[(int) ksize];
        p.get((int) pos, key);
        if (previous != null && Layout.compare(previous, key) >= 0) {
          throw new BoltFormatException(where + ": " + what + " key " + printable(key) + " is not after "
              + printable(previous));
        }
        previous = key;
        ByteBuffer value = p.slice((int) (pos + ksize), (int) vsize).asReadOnlyBuffer();
        if (!entry(flags, key, value)) {
          stopped = true;
        }
      }
    }

    private void checkElements(ByteBuffer p, int count, int elementBytes, String what) throws BoltFormatException {
      if (Layout.PAGE_HEADER_BYTES + (long) count * elementBytes > p.capacity()) {
        throw new BoltFormatException(where + ": " + what + " has " + count + " elements, more than its "
            + p.capacity() + " bytes hold");
      }
    }
  }

  /** One meta page as read, with the reason it is invalid ({@code null} when valid). */
  private static final class Meta {
    int pageSize;
    long root;
    long freelist;
    long highWater;
    long txid;
    String problem;

    /**
     * Reads the meta of the page at {@code offset}; {@code expectedPageSize} 0 accepts any valid
     * page size (meta 0, read before the page size is known).
     */
    static Meta read(FileChannel ch, long offset, int expectedPageSize) throws IOException {
      Meta m = new Meta();
      ByteBuffer b = ByteBuffer.allocate(Layout.PAGE_HEADER_BYTES + Layout.META_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining()) {
        if (ch.read(b, offset + b.position()) < 0) {
          m.problem = "file ends at " + (offset + b.position()) + ", inside the meta page at " + offset;
          return m;
        }
      }
      int at = Layout.META_OFFSET;
      int magic = b.getInt(at + Layout.META_MAGIC_AT);
      int version = b.getInt(at + Layout.META_VERSION_AT);
      long checksum = b.getLong(at + Layout.META_CHECKSUM_AT);
      m.pageSize = b.getInt(at + Layout.META_PAGE_SIZE_AT);
      m.root = b.getLong(at + Layout.META_ROOT_AT);
      m.freelist = b.getLong(at + Layout.META_FREELIST_AT);
      m.highWater = b.getLong(at + Layout.META_HIGH_WATER_AT);
      m.txid = b.getLong(at + Layout.META_TXID_AT);
      if (magic != Layout.META_MAGIC) {
        m.problem = String.format("invalid magic %08x", magic);
      } else if (version != Layout.META_VERSION) {
        m.problem = "version " + version + ", expected " + Layout.META_VERSION;
      } else if (checksum != 0 && checksum != Layout.fnv1a64(b, at, Layout.META_CHECKSUM_AT)) {
        // bbolt skips the check for a zero checksum; so do we.
        m.problem = "checksum mismatch";
      } else if (!Layout.isPowerOfTwo(m.pageSize) || m.pageSize < Layout.PAGE_SIZE_MIN
          || m.pageSize > Layout.PAGE_SIZE_MAX) {
        m.problem = "page size " + m.pageSize;
      } else if (expectedPageSize != 0 && m.pageSize != expectedPageSize) {
        m.problem = "page size " + m.pageSize + " where meta 0 says " + expectedPageSize;
      }
      return m;
    }

    /** Checks the chosen meta's page ids against the file. */
    void checkAgainst(Path file, long fileBytes, int pageSize) throws BoltFormatException {
      if (highWater < 3 || highWater > Integer.MAX_VALUE) {
        throw new BoltFormatException(file + ": high-water page id " + highWater);
      }
      if (root < 2 || root >= highWater) {
        throw new BoltFormatException(file + ": root page " + root + " outside [2, " + highWater + ")");
      }
      if (freelist != Layout.NO_FREELIST && (freelist < 2 || freelist >= highWater)) {
        throw new BoltFormatException(file + ": freelist page " + freelist + " outside [2, " + highWater + ")");
      }
      if (highWater * pageSize > fileBytes) {
        throw new BoltFormatException(file + ": truncated: " + fileBytes + " bytes, but the meta's high-water mark "
            + highWater + " needs " + highWater * pageSize);
      }
    }
  }
}
