package io.kvorum.server.storage;

/**
 * The raft position of the last applied entry whose effects are in the backend. Written in the same
 * batch as those effects, so that after a crash (backend writes are not fsynced: the raft WAL is
 * what is durable) the member re-applies exactly the entries after it.
 *
 * @param index the raft log index, 0 before anything was applied
 * @param term the raft term of that entry, 0 before anything was applied
 */
public record ConsistentIndex(long index, long term) {
  /** Nothing applied yet. */
  public static final ConsistentIndex ZERO = new ConsistentIndex(0, 0);

  public ConsistentIndex {
    if (index < 0 || term < 0) {
      throw new IllegalArgumentException(
          "consistent index and term must be >= 0, got index " + index + " term " + term);
    }
  }
}
