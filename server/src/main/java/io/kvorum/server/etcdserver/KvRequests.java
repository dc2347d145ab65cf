package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.server.apply.BackendQuota;
import io.kvorum.server.apply.Compaction;
import java.util.concurrent.CompletableFuture;

/**
 * The member's KV requests: ranges are read off the write path ({@link Reads}); writes are checked
 * as etcd checks them before proposing (the backend quota first, then sizes, empty keys, txn
 * limits) and go through the log.
 */
final class KvRequests implements KvServer {
  private final Reads reads;
  private final Proposer proposer;
  private final QuotaAlarmer quota;
  private final int maxTxnOps;

  KvRequests(Reads reads, Proposer proposer, QuotaAlarmer quota, int maxTxnOps) {
    this.reads = reads;
    this.proposer = proposer;
    this.quota = quota;
    this.maxTxnOps = maxTxnOps;
  }

  @Override
  public CompletableFuture<RangeResponse> range(RequestContext ctx, RangeRequest r) {
    return reads.range(ctx, r);
  }

  @Override
  public CompletableFuture<PutResponse> put(RequestContext ctx, PutRequest r) {
    if (!quota.fits(BackendQuota.cost(r))) {
      return quota.refuse(ctx);
    }
    RequestChecks.put(r);
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setPut(r), PutResponse.class);
  }

  @Override
  public CompletableFuture<DeleteRangeResponse> deleteRange(RequestContext ctx, DeleteRangeRequest r) {
    RequestChecks.deleteRange(r);
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setDeleteRange(r), DeleteRangeResponse.class);
  }

  @Override
  public CompletableFuture<TxnResponse> txn(RequestContext ctx, TxnRequest r) {
    if (!quota.fits(BackendQuota.cost(r))) {
      return quota.refuse(ctx);
    }
    RequestChecks.txn(r, maxTxnOps);
    // Read-only txns go through the log too: compares and reads then happen at one revision on
    // the apply thread (serving them from a read view is a later optimisation).
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setTxn(r), TxnResponse.class);
  }

  @Override
  public CompletableFuture<CompactionResponse> compact(RequestContext ctx, CompactionRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setCompaction(r), Compaction.class)
        .thenCompose(c -> r.getPhysical() ? c.physical().thenApply(v -> c.response())
            : CompletableFuture.completedFuture(c.response()));
  }
}
