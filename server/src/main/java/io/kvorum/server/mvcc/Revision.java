package io.kvorum.server.mvcc;

import io.kvorum.server.storage.StorageException;

/**
 * A point in the store's history. All changes of one write transaction share a {@code main}
 * revision and are told apart by increasing {@code sub} revisions starting at 0.
 *
 * <p>On disk (the backend's {@code key} bucket, see {@code io.kvorum.server.storage.Schema}) a
 * revision is etcd 3.4's 17-byte key, byte by byte:
 *
 * <pre>
 *   offset  length  content
 *   0       8       main, big-endian two's complement (always &gt;= 1)
 *   8       1       '_' (0x5f)
 *   9       8       sub, big-endian two's complement (always &gt;= 0)
 *   17      1       't' (0x74), present only when the revision is a tombstone (a deletion)
 * </pre>
 *
 * <p>For example main 5, sub 2 is {@code 00 00 00 00 00 00 00 05 5f 00 00 00 00 00 00 00 02}, and
 * the deletion at that revision appends {@code 74}. Unsigned byte order of these keys is revision
 * order.
 */
public record Revision(long main, long sub) implements Comparable<Revision> {
  /** Length of the key of a live revision. */
  public static final int KEY_BYTES = 17;
  /** Length of the key of a tombstone: the live key plus the mark. */
  public static final int TOMBSTONE_KEY_BYTES = KEY_BYTES + 1;
  /** The byte between main and sub. */
  public static final byte SEPARATOR = '_';
  /** The last byte of a tombstone's key. */
  public static final byte TOMBSTONE_MARK = 't';

  public Revision {
    if (main < 0 || sub < 0) {
      throw new IllegalArgumentException("revision must be >= 0, got " + main + "_" + sub);
    }
  }

  /** The 17-byte key of this revision. */
  public byte[] toKey() {
    byte[] out = new byte[KEY_BYTES];
    write(out);
    return out;
  }

  /** The 18-byte key of a tombstone at this revision. */
  public byte[] toTombstoneKey() {
    byte[] out = new byte[TOMBSTONE_KEY_BYTES];
    write(out);
    out[KEY_BYTES] = TOMBSTONE_MARK;
    return out;
  }

  private void write(byte[] out) {
    putLong(out, 0, main);
    out[8] = SEPARATOR;
    putLong(out, 9, sub);
  }

  /**
   * Decodes a 17- or 18-byte key.
   *
   * @throws StorageException if the bytes are not a revision key: the backend holds data this code
   *     did not write
   */
  public static Revision fromKey(byte[] key) {
    if (!(key.length == KEY_BYTES
            || (key.length == TOMBSTONE_KEY_BYTES && key[KEY_BYTES] == TOMBSTONE_MARK))
        || key[8] != SEPARATOR) {
      throw new StorageException("mvcc: malformed revision key of " + key.length + " bytes");
    }
    long main = getLong(key, 0);
    long sub = getLong(key, 9);
    if (main < 0 || sub < 0) {
      throw new StorageException("mvcc: negative revision in key " + main + "_" + sub);
    }
    return new Revision(main, sub);
  }

  /** True if {@code key} is a tombstone's key. */
  public static boolean isTombstoneKey(byte[] key) {
    return key.length == TOMBSTONE_KEY_BYTES && key[KEY_BYTES] == TOMBSTONE_MARK;
  }

  /** The next possible revision within the same main revision. */
  Revision nextSub() {
    return new Revision(main, sub + 1);
  }

  @Override
  public int compareTo(Revision o) {
    int c = Long.compare(main, o.main);
    return c != 0 ? c : Long.compare(sub, o.sub);
  }

  @Override
  public String toString() {
    return main + "_" + sub;
  }

  private static void putLong(byte[] out, int at, long v) {
    for (int i = 7; i >= 0; i--) {
      out[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  private static long getLong(byte[] in, int at) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (in[at + i] & 0xff);
    }
    return v;
  }
}
