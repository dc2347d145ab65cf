package io.kvorum.server.mvcc;

/**
 * etcd's {@code HashKV} answer.
 *
 * @param hash CRC-32C (Castagnoli) of the key history, as an unsigned 32-bit value
 * @param revision the store's current revision when the hash was computed (not the revision hashed)
 * @param compactRevision the store's compaction revision then, -1 if it was never compacted
 */
public record HashKv(long hash, long revision, long compactRevision) {}
