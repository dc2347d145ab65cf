package io.kvorum.server.etcdserver;

import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.Schema;
import java.util.function.LongSupplier;

/**
 * The member's size as the backend quota measures it and {@code Status} reports it: the bytes of
 * every record that holds replicated data — each key revision not yet compacted away (tombstones
 * included), each lease, each user and role — plus the backend's own bookkeeping records (schema
 * version, consistent index, term). It is a function of the applied entries alone, so every member
 * agrees on it, after a restart or a snapshot too; a fresh member has just the bookkeeping (58
 * bytes), and deleting keys makes it shrink only once a compaction drops their history. RocksDB's files (their
 * overheads, obsolete versions not yet compacted, write-ahead log) are not counted, and
 * defragmenting does not change it. Readable from any thread without a lock.
 */
final class LogicalSize implements LongSupplier {
  private final KvStore kv;
  private final Lessor lessor;
  private final AuthStore auth;

  LogicalSize(KvStore kv, Lessor lessor, AuthStore auth) {
    this.kv = kv;
    this.lessor = lessor;
    this.auth = auth;
  }

  @Override
  public long getAsLong() {
    return Schema.META_RECORDS_BYTES + kv.sizeBytes() + (long) lessor.size() * Schema.LEASE_RECORD_BYTES
        + auth.recordBytes();
  }
}
