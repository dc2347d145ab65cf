package io.kvorum.server.storage;

/**
 * Tuning of the RocksDB backend. Validated eagerly; every size is in bytes.
 *
 * @param writeBufferBytes RocksDB memtable size per column family before it is flushed to a file
 * @param blockCacheBytes shared LRU cache for uncompressed data blocks across all column families
 */
public record BackendConfig(long writeBufferBytes, long blockCacheBytes) {
  /** Smallest memtable RocksDB handles sensibly. */
  public static final long WRITE_BUFFER_BYTES_MIN = 64L * 1024;
  /** Smallest block cache that still holds a few blocks. */
  public static final long BLOCK_CACHE_BYTES_MIN = 1024L * 1024;

  /** 64 MiB memtables, 128 MiB block cache. */
  public static final BackendConfig DEFAULT = new BackendConfig(64L << 20, 128L << 20);

  public BackendConfig {
    if (writeBufferBytes < WRITE_BUFFER_BYTES_MIN) {
      throw new IllegalArgumentException(
          "writeBufferBytes must be >= " + WRITE_BUFFER_BYTES_MIN + ", got " + writeBufferBytes);
    }
    if (blockCacheBytes < BLOCK_CACHE_BYTES_MIN) {
      throw new IllegalArgumentException(
          "blockCacheBytes must be >= " + BLOCK_CACHE_BYTES_MIN + ", got " + blockCacheBytes);
    }
  }
}
