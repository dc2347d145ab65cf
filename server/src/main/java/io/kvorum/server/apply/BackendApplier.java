package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.CompactionResponse;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointRequest;
import io.kvorum.proto.etcdserverpb.LeaseCheckpointResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.WriteTxn;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The last link (etcd's {@code applierV3backend}): changes the MVCC store, the leases and the
 * membership, each entry's effects in one atomic batch with its consistent index, and answers
 * with etcd's response and header.
 */
final class BackendApplier implements RequestApplier {
  private final KvStore kv;
  private final KvApplier kvApplier;
  private final LeaseApplier leaseApplier;
  private final ApplierChain.Headers headers;
  private final ApplierChain.Publisher publisher;

  BackendApplier(KvStore kv, Lessor lessor, ApplierChain.Headers headers, ApplierChain.Publisher publisher) {
    this.kv = kv;
    this.kvApplier = new KvApplier(lessor::exists);
    this.leaseApplier = new LeaseApplier(lessor, kv);
    this.headers = headers;
    this.publisher = publisher;
  }

  private ResponseHeader current() {
    return headers.header(kv.currentRevision());
  }

  @Override
  public PutResponse put(ApplyContext ctx, PutRequest r) {
    try (WriteTxn w = kv.write(ctx.index())) {
      PutResponse resp = kvApplier.put(w, r);
      return resp.toBuilder().setHeader(headers.header(w.end())).build();
    }
  }

  @Override
  public DeleteRangeResponse deleteRange(ApplyContext ctx, DeleteRangeRequest r) {
    try (WriteTxn w = kv.write(ctx.index())) {
      DeleteRangeResponse resp = kvApplier.deleteRange(w, r);
      return resp.toBuilder().setHeader(headers.header(w.end())).build();
    }
  }

  @Override
  public TxnResponse txn(ApplyContext ctx, TxnRequest r) {
    try (WriteTxn w = kv.write(ctx.index())) {
      TxnResponse resp = kvApplier.txn(w, r);
      return resp.toBuilder().setHeader(headers.header(w.end())).build();
    }
  }

  @Override
  public Compaction compaction(ApplyContext ctx, CompactionRequest r) {
    CompletableFuture<Void> physical = kv.compact(r.getRevision(), ctx.index());
    return new Compaction(CompactionResponse.newBuilder().setHeader(current()).build(), physical);
  }

  @Override
  public LeaseGrantResponse leaseGrant(ApplyContext ctx, LeaseGrantRequest r) {
    long ttl = leaseApplier.grant(r, ctx.index());
    return LeaseGrantResponse.newBuilder().setHeader(current()).setID(r.getID()).setTTL(ttl).build();
  }

  @Override
  public LeaseRevokeResponse leaseRevoke(ApplyContext ctx, LeaseRevokeRequest r) {
    long rev = leaseApplier.revoke(List.of(r.getID()), ctx.index(), true);
    return LeaseRevokeResponse.newBuilder().setHeader(headers.header(rev)).build();
  }

  @Override
  public LeaseRevokeResponse leaseExpire(ApplyContext ctx, LeaseExpire r) {
    long rev = leaseApplier.revoke(r.getIdsList(), ctx.index(), false);
    return LeaseRevokeResponse.newBuilder().setHeader(headers.header(rev)).build();
  }

  @Override
  public LeaseCheckpointResponse leaseCheckpoint(ApplyContext ctx, LeaseCheckpointRequest r) {
    leaseApplier.checkpoint(r, ctx.index());
    return LeaseCheckpointResponse.newBuilder().setHeader(current()).build();
  }

  @Override
  public Published publish(ApplyContext ctx, MemberAttributes r) {
    publisher.publish(ctx, r);
    return new Published(r.getMemberId());
  }
}
