package io.kvorum.server.mvcc;

/**
 * Tuning of the MVCC store, validated eagerly.
 *
 * @param compactionBatchRevisionsMax revisions examined per backend batch during physical
 *     compaction (etcd's {@code --experimental-compaction-batch-limit}, default 1000)
 */
public record KvStoreConfig(int compactionBatchRevisionsMax) {
  public static final KvStoreConfig DEFAULT = new KvStoreConfig(1000);

  public KvStoreConfig {
    if (compactionBatchRevisionsMax < 1) {
      throw new IllegalArgumentException(
          "compactionBatchRevisionsMax must be >= 1, got " + compactionBatchRevisionsMax);
    }
  }
}
