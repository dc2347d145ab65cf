package io.kvorum.server.mvcc;

/**
 * What the store tells the member's metrics (etcd's mvcc metrics): the operations of every
 * transaction it ends and the revisions physical compaction deletes. Called on the thread that ends
 * the transaction or runs the compaction batch; an implementation only counts.
 */
public interface StoreObserver {
  StoreObserver NONE = new StoreObserver() {};

  /**
   * A read or write transaction ended after {@code ranges} ranges, {@code puts} puts (of
   * {@code putBytes} bytes of keys and values) and {@code deletes} delete-ranges — compares and
   * the reads behind {@code prev_kv} count as ranges, as in etcd.
   */
  default void txnEnded(int ranges, int puts, int deletes, long putBytes) {}

  /** A physical compaction batch deleted {@code revisions} revisions from the backend. */
  default void compacted(int revisions) {}
}
