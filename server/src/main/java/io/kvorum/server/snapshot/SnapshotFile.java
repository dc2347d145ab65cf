package io.kvorum.server.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A snapshot file as {@code etcdctl snapshot save} writes it: the database, then the SHA-256 of the
 * database's bytes. As {@code etcdctl snapshot restore} decides, a file whose size is 32 more than
 * a multiple of 512 carries the hash (a bbolt file is whole pages); a file without one (a copied
 * {@code member/snap/db}) is taken only when the hash check is skipped.
 */
public final class SnapshotFile {
  /** Bytes of the trailing hash. */
  public static final int HASH_BYTES = 32;
  /** The size a database is a multiple of. */
  private static final int SECTOR_BYTES = 512;
  private static final int READ_BYTES = 1 << 20;

  private SnapshotFile() {}

  /** Whether a file of {@code size} bytes ends with the hash. */
  public static boolean hasHash(long size) {
    return size % SECTOR_BYTES == HASH_BYTES;
  }

  /**
   * Checks {@code file}'s trailing SHA-256 against its content, failing with etcd's words ({@code
   * expected sha256 [...], got [...]}) on a mismatch; without a hash, fails unless {@code
   * skipHashCheck}.
   */
  public static void verify(Path file, boolean skipHashCheck) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (!hasHash(size)) {
        if (!skipHashCheck) {
          throw new IOException("snapshot missing hash but --skip-hash-check=false");
        }
        return;
      }
      if (skipHashCheck) {
        return;
      }
      MessageDigest sha;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JVM has no SHA-256", e);
      }
      long content = size - HASH_BYTES;
      ByteBuffer buf = ByteBuffer.allocate(READ_BYTES);
      long pos = 0;
      while (pos < content) {
        buf.clear().limit((int) Math.min(READ_BYTES, content - pos));
        int n = ch.read(buf, pos);
        if (n < 0) {
          throw new IOException(file + " ended at " + pos + " of " + size + " bytes");
        }
        sha.update(buf.array(), 0, n);
        pos += n;
      }
      ByteBuffer expected = ByteBuffer.allocate(HASH_BYTES);
      while (expected.hasRemaining()) {
        if (ch.read(expected, content + expected.position()) < 0) {
          throw new IOException(file + " ended inside its hash");
        }
      }
      byte[] got = sha.digest();
      if (!Arrays.equals(expected.array(), got)) {
        throw new IOException("expected sha256 " + goBytes(expected.array()) + ", got " + goBytes(got));
      }
    }
  }

  /** Bytes as Go's {@code %v} prints a byte slice: {@code [1 2 3]}. */
  private static String goBytes(byte[] b) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < b.length; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(b[i] & 0xff);
    }
    return sb.append(']').toString();
  }
}
