package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.server.apply.ApplierChain;
import io.kvorum.server.apply.KvApplier;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.clock.Timing;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.server.mvcc.BackendHash;
import io.kvorum.server.mvcc.CompactedException;
import io.kvorum.server.mvcc.FutureRevisionException;
import io.kvorum.server.mvcc.HashKv;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.ReadTxn;
import io.kvorum.server.sched.Niceness;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Reads, served off the write path: each on a reader thread from one consistent MVCC snapshot, so
 * a long range never delays the apply thread. A linearizable read first waits until this member
 * applied everything committed when it asked (a ReadIndex, batched by the raft loop); a
 * serializable one reads what is applied.
 */
final class Reads implements AutoCloseable {
  /** Reader threads serving ranges and hashes. */
  static final int READ_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

  private final KvStore kv;
  private final AuthStore auth;
  private final Proposer proposer;
  private final ApplierChain.Headers headers;
  private final ExecutorService readers;
  private final Timing hashes;
  private final Timing revisionHashes;

  /** @param readerNice nice steps the reader threads run below the write path (0: as the rest) */
  Reads(KvStore kv, AuthStore auth, Proposer proposer, ApplierChain.Headers headers, int readerNice,
      Timing hashes, Timing revisionHashes) {
    this.hashes = hashes;
    this.revisionHashes = revisionHashes;
    this.readers = Executors.newFixedThreadPool(READ_THREADS, r -> {
      Thread t = new Thread(() -> {
        Niceness.lowerCurrentThread(readerNice);
        r.run();
      }, "kvorum-read");
      t.setDaemon(true);
      return t;
    });
    this.kv = kv;
    this.auth = auth;
    this.proposer = proposer;
    this.headers = headers;
  }

  CompletableFuture<RangeResponse> range(RequestContext ctx, RangeRequest r) {
    RequestChecks.range(r);
    Supplier<RangeResponse> read = () -> {
      // etcd's doSerialize: the permission checked once the read may happen, and the answer refused
      // if the auth store moved on while it was read.
      auth.checkRange(ctx.user(), ctx.authRevision(), r.getKey(), r.getRangeEnd());
      try (ReadTxn t = kv.read()) {
        RangeResponse resp = KvApplier.range(r, t::range);
        if (ctx.authRevision() != 0 && ctx.authRevision() != auth.revision()) {
          throw EtcdError.AUTH_OLD_REVISION.exception();
        }
        return resp.toBuilder().setHeader(headers.header(t.revision())).build();
      } catch (CompactedException e) {
        throw EtcdError.COMPACTED.exception();
      } catch (FutureRevisionException e) {
        throw EtcdError.FUTURE_REV.exception();
      }
    };
    if (r.getSerializable() || Failpoints.on(Failpoint.BUG_LOCAL_LINEARIZABLE_READS)) {
      return CompletableFuture.supplyAsync(read, readers);
    }
    return proposer.readIndex(ctx).thenApplyAsync(v -> read.get(), readers);
  }

  CompletableFuture<HashKVResponse> hashKv(long revision) {
    return CompletableFuture.supplyAsync(() -> {
      long start = revisionHashes.start();
      try {
        HashKv h = kv.hashKv(revision);
        revisionHashes.stop(start);
        return HashKVResponse.newBuilder().setHeader(headers.header(h.revision())).setHash((int) h.hash())
            .setCompactRevision(h.compactRevision()).build();
      } catch (CompactedException e) {
        throw EtcdError.COMPACTED.exception();
      } catch (FutureRevisionException e) {
        throw EtcdError.FUTURE_REV.exception();
      }
    }, readers);
  }

  /**
   * etcd's {@code Hash}: a checksum of the whole backend with the revision of the same snapshot in
   * the header. A full scan, on a reader thread; writes go on meanwhile.
   */
  CompletableFuture<HashResponse> hash() {
    return CompletableFuture.supplyAsync(() -> {
      long start = hashes.start();
      BackendHash h = kv.hash();
      hashes.stop(start);
      return HashResponse.newBuilder().setHeader(headers.header(h.revision())).setHash((int) h.hash()).build();
    }, readers);
  }

  @Override
  public void close() {
    readers.shutdownNow();
  }
}
