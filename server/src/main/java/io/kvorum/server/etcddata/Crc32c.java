package io.kvorum.server.etcddata;

/**
 * CRC-32C (Castagnoli) that continues from a previous value, as Go's {@code crc32.Update} does.
 * etcd's WAL chains one checksum through every record of every file, and each new file starts
 * from the value the previous one ended with; {@link java.util.zip.CRC32C} cannot be seeded, hence
 * this table-driven form.
 */
final class Crc32c {
  /** The reflected Castagnoli polynomial. */
  private static final int POLYNOMIAL = 0x82F63B78;
  private static final int[] TABLE = new int[256];

  static {
    for (int i = 0; i < 256; i++) {
      int c = i;
      for (int k = 0; k < 8; k++) {
        c = (c & 1) != 0 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
      }
      TABLE[i] = c;
    }
  }

  private Crc32c() {}

  /** The checksum of {@code crc}'s input followed by {@code bytes[off, off + len)}. */
  static int update(int crc, byte[] bytes, int off, int len) {
    int c = ~crc;
    for (int i = off; i < off + len; i++) {
      c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    }
    return ~c;
  }

  static int update(int crc, byte[] bytes) {
    return update(crc, bytes, 0, bytes.length);
  }
}
