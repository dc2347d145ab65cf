package io.kvorum.server.mvcc;

/**
 * What a delete-range did.
 *
 * @param deleted how many keys it removed
 * @param revision the store's revision after it (unchanged if nothing was removed and nothing else
 *     in the transaction wrote)
 */
public record DeleteResult(long deleted, long revision) {}
