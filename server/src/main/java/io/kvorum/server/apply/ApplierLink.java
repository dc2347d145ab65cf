package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.CompactionRequest;
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
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.proto.serverpb.MemberAttributes;

/** A link that passes every request to the next one; subclasses override what they check. */
abstract class ApplierLink implements RequestApplier {
  protected final RequestApplier next;

  ApplierLink(RequestApplier next) {
    this.next = next;
  }

  @Override
  public PutResponse put(ApplyContext ctx, PutRequest r) {
    return next.put(ctx, r);
  }

  @Override
  public DeleteRangeResponse deleteRange(ApplyContext ctx, DeleteRangeRequest r) {
    return next.deleteRange(ctx, r);
  }

  @Override
  public TxnResponse txn(ApplyContext ctx, TxnRequest r) {
    return next.txn(ctx, r);
  }

  @Override
  public Compaction compaction(ApplyContext ctx, CompactionRequest r) {
    return next.compaction(ctx, r);
  }

  @Override
  public LeaseGrantResponse leaseGrant(ApplyContext ctx, LeaseGrantRequest r) {
    return next.leaseGrant(ctx, r);
  }

  @Override
  public LeaseRevokeResponse leaseRevoke(ApplyContext ctx, LeaseRevokeRequest r) {
    return next.leaseRevoke(ctx, r);
  }

  @Override
  public LeaseRevokeResponse leaseExpire(ApplyContext ctx, LeaseExpire r) {
    return next.leaseExpire(ctx, r);
  }

  @Override
  public LeaseCheckpointResponse leaseCheckpoint(ApplyContext ctx, LeaseCheckpointRequest r) {
    return next.leaseCheckpoint(ctx, r);
  }

  @Override
  public Published publish(ApplyContext ctx, MemberAttributes r) {
    return next.publish(ctx, r);
  }
}
