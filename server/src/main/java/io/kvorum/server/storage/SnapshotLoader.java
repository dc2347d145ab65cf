package io.kvorum.server.storage;

import io.kvorum.server.storage.Schema.Bucket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.rocksdb.EnvOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDBException;
import org.rocksdb.SstFileWriter;

/**
 * Writes a backend received from the leader into SST files, one directory per snapshot, so it can
 * be ingested whole ({@link Backend#replaceWith}). Records must come bucket by bucket and, within a
 * bucket, in key order (how the sender reads them). Files are rolled every {@link #FILE_BYTES_MAX}
 * so no file grows without bound; nothing is kept in memory beyond RocksDB's block buffer.
 */
public final class SnapshotLoader implements AutoCloseable {
  static {
    org.rocksdb.RocksDB.loadLibrary();
  }

  static final long FILE_BYTES_MAX = 256L * 1024 * 1024;

  private final Path dir;
  private final EnvOptions envOptions = new EnvOptions();
  private final Options options = new Options();
  private SstFileWriter writer;
  private Bucket bucket;
  private int fileNo;
  private long fileBytes;
  private byte[] lastKey;
  private long records;

  /** Starts an empty directory {@code dir} (whatever was there is removed). */
  public SnapshotLoader(Path dir) throws IOException {
    this.dir = dir;
    deleteTree(dir);
    Files.createDirectories(dir);
  }

  /** Reused native buffers for {@link #add(String, ByteBuffer, ByteBuffer)}: no garbage per record. */
  private ByteBuffer keyBuf = ByteBuffer.allocateDirect(256);
  private ByteBuffer valueBuf = ByteBuffer.allocateDirect(64 * 1024);

  public void add(String bucketName, byte[] key, byte[] value) throws IOException {
    add(bucketName, ByteBuffer.wrap(key), ByteBuffer.wrap(value));
  }

  /**
   * Adds a record; the buffers' remaining bytes are copied once into native memory (RocksDB's
   * writer takes direct buffers), so a caller may pass slices of a received chunk without copying.
   */
  public void add(String bucketName, ByteBuffer key, ByteBuffer value) throws IOException {
    Bucket b = Bucket.byDiskName(bucketName);
    if (b == null) {
      throw new IOException("snapshot holds unknown bucket " + bucketName);
    }
    try {
      if (b != bucket) {
        if (bucket != null && b.ordinal() < bucket.ordinal()) {
          throw new IOException("snapshot buckets out of order: " + b + " after " + bucket);
        }
        roll(b);
      } else if (fileBytes >= FILE_BYTES_MAX) {
        roll(b);
      }
      byte[] k = new byte[key.remaining()];
      key.duplicate().get(k);
      if (lastKey != null && java.util.Arrays.compareUnsigned(lastKey, k) >= 0) {
        throw new IOException("snapshot keys out of order in bucket " + b);
      }
      keyBuf = fill(keyBuf, ByteBuffer.wrap(k));
      valueBuf = fill(valueBuf, value.duplicate());
      writer.put(keyBuf, valueBuf);
      lastKey = k;
      fileBytes += k.length + valueBuf.limit();
      records++;
    } catch (RocksDBException e) {
      throw new IOException("cannot write snapshot file: " + e.getMessage(), e);
    }
  }

  private static ByteBuffer fill(ByteBuffer buf, ByteBuffer from) {
    ByteBuffer out = buf;
    if (out.capacity() < from.remaining()) {
      out = ByteBuffer.allocateDirect(Math.max(from.remaining(), out.capacity() * 2));
    }
    out.clear();
    out.put(from);
    out.flip();
    return out;
  }

  private void roll(Bucket b) throws RocksDBException, IOException {
    finishFile();
    bucket = b;
    Path bucketDir = dir.resolve(b.diskName());
    Files.createDirectories(bucketDir);
    writer = new SstFileWriter(envOptions, options);
    writer.open(bucketDir.resolve(String.format(java.util.Locale.ROOT, "%06d.sst", fileNo++)).toString());
    fileBytes = 0;
    lastKey = null;
  }

  private void finishFile() throws RocksDBException {
    if (writer != null) {
      writer.finish();
      writer.close();
      writer = null;
    }
  }

  /** Completes the files and makes the directory durable. */
  public long finish() throws IOException {
    try {
      finishFile();
    } catch (RocksDBException e) {
      throw new IOException("cannot finish snapshot file: " + e.getMessage(), e);
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        fsync(p, Files.isDirectory(p));
      }
    }
    return records;
  }

  private static void fsync(Path p, boolean directory) throws IOException {
    try (FileChannel ch = FileChannel.open(p, directory ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  @Override
  public void close() {
    try {
      finishFile();
    } catch (RocksDBException e) {
      // abandoned
    }
    if (writer != null) {
      writer.close();
    }
    options.close();
    envOptions.close();
  }

  /** Removes {@code dir} and everything under it; no-op if it does not exist. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
