package io.kvorum.server.bolt;

import java.nio.ByteBuffer;

/**
 * Every byte layout of a bbolt file in one place (bbolt's {@code page.go}, {@code db.go} meta,
 * {@code bucket.go} header), as amd64 bbolt writes it: little-endian, fixed-size headers.
 *
 * <pre>
 * page header   (16)  id u64 | flags u16 | count u16 | overflow u32
 * branch elem   (16)  pos u32 | ksize u32 | pgid u64          pos counts from the element itself
 * leaf elem     (16)  flags u32 | pos u32 | ksize u32 | vsize u32
 * meta          (64)  magic u32 | version u32 | pageSize u32 | flags u32 | root bucket (16)
 *                     | freelist u64 | high-water pgid u64 | txid u64 | checksum u64 (FNV-1a 64 of the 56 before)
 * bucket value  (16)  root pgid u64 | sequence u64, then (root 0 only) the inline bucket's page
 * freelist page       count page ids u64; count 0xFFFF means the first u64 is the real count
 * </pre>
 */
final class Layout {
  private Layout() {}

  static final int PAGE_HEADER_BYTES = 16;
  static final int PAGE_ID = 0;
  static final int PAGE_FLAGS = 8;
  static final int PAGE_COUNT = 10;
  static final int PAGE_OVERFLOW = 12;

  static final int FLAG_BRANCH = 0x01;
  static final int FLAG_LEAF = 0x02;
  static final int FLAG_META = 0x04;
  static final int FLAG_FREELIST = 0x10;

  static final int BRANCH_ELEMENT_BYTES = 16;
  static final int LEAF_ELEMENT_BYTES = 16;
  /** A leaf element's flag: its value is a bucket header (a nested bucket). */
  static final int LEAF_FLAG_BUCKET = 0x01;

  static final int BUCKET_HEADER_BYTES = 16;

  static final int META_MAGIC = 0xED0CDAED;
  static final int META_VERSION = 2;
  /** The meta's offset within its page (after the page header). */
  static final int META_OFFSET = PAGE_HEADER_BYTES;
  static final int META_MAGIC_AT = 0;
  static final int META_VERSION_AT = 4;
  static final int META_PAGE_SIZE_AT = 8;
  static final int META_FLAGS_AT = 12;
  static final int META_ROOT_AT = 16;
  static final int META_SEQUENCE_AT = 24;
  static final int META_FREELIST_AT = 32;
  static final int META_HIGH_WATER_AT = 40;
  static final int META_TXID_AT = 48;
  static final int META_CHECKSUM_AT = 56;
  static final int META_BYTES = 64;
  /** The freelist pgid of a database whose freelist is not written (bbolt's {@code NoFreelistSync}). */
  static final long NO_FREELIST = -1L;
  /** A freelist page's count that means "the real count is the first element". */
  static final int FREELIST_COUNT_ESCAPE = 0xFFFF;

  /** bbolt's {@code MaxKeySize}. */
  static final int KEY_BYTES_MAX = 32768;
  /** bbolt's {@code MaxValueSize}. */
  static final int VALUE_BYTES_MAX = (1 << 31) - 2;
  /** bbolt splits no node below this many elements; a page holds at least this many unless it is the last. */
  static final int MIN_KEYS_PER_PAGE = 2;
  /** Page sizes a file may declare: powers of two in this range (bbolt uses the OS page size, 4 KiB to 64 KiB). */
  static final int PAGE_SIZE_MIN = 512;
  static final int PAGE_SIZE_MAX = 1 << 20;

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  /** FNV-1a 64 over {@code length} bytes of {@code b} from absolute index {@code from}. */
  static long fnv1a64(ByteBuffer b, int from, int length) {
    long h = FNV_OFFSET;
    for (int i = 0; i < length; i++) {
      h ^= b.get(from + i) & 0xFF;
      h *= FNV_PRIME;
    }
    return h;
  }

  static boolean isPowerOfTwo(long n) {
    return n > 0 && (n & (n - 1)) == 0;
  }

  /** Unsigned lexicographic order, bbolt's {@code bytes.Compare}. */
  static int compare(byte[] a, byte[] b) {
    return java.util.Arrays.compareUnsigned(a, b);
  }
}
