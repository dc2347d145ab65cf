package io.kvorum.server.mvcc;

/**
 * etcd's {@code Hash} answer: a checksum of the whole backend and the revision it holds.
 *
 * @param hash CRC-32C (Castagnoli) of every bucket (see {@code storage.Schema}), as an unsigned
 *     32-bit value
 * @param revision the store's revision in the backend snapshot that was hashed
 */
public record BackendHash(long hash, long revision) {}
