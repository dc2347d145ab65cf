package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.LeaseExpire;
import io.kvorum.server.errors.EtcdError;

/**
 * The first link: etcd's {@code corrupt} and {@code capped} appliers, active only while their
 * alarm is. With CORRUPT active, every KV and lease request fails with etcd's corrupt-cluster
 * error, except read-only txns (etcd serves those without its applier chain); with NOSPACE
 * active, puts, txns that put (at their top level, as etcd counts them) and lease grants fail with
 * etcd's no-space error, while reads, deletes, compactions and revokes — what frees space — go
 * on. Alarm requests always pass, so an alarm can be disarmed.
 *
 * <p>Unlike etcd 3.4, which swaps its whole chain for {@code capped(backend)} while an alarm is
 * active (so auth is not checked until the alarm is disarmed), this link stays in front of the
 * auth link and the chain never changes.
 */
final class AlarmLink extends ApplierLink {
  private final Alarms alarms;

  AlarmLink(Alarms alarms, RequestApplier next) {
    super(next);
    this.alarms = alarms;
  }

  private void checkCorrupt() {
    if (alarms.corrupt()) {
      throw EtcdError.CORRUPT.exception();
    }
  }

  private void checkSpace() {
    checkCorrupt();
    if (alarms.noSpace()) {
      throw EtcdError.NO_SPACE.exception();
    }
  }

  @Override
  public PutResponse put(ApplyContext ctx, PutRequest r) {
    checkSpace();
    return next.put(ctx, r);
  }

  @Override
  public DeleteRangeResponse deleteRange(ApplyContext ctx, DeleteRangeRequest r) {
    checkCorrupt();
    return next.deleteRange(ctx, r);
  }

  @Override
  public TxnResponse txn(ApplyContext ctx, TxnRequest r) {
    if (!readOnly(r.getSuccessList()) || !readOnly(r.getFailureList())) {
      checkCorrupt();
    }
    if (alarms.noSpace() && BackendQuota.cost(r) > 0) {
      throw EtcdError.NO_SPACE.exception();
    }
    return next.txn(ctx, r);
  }

  /** etcd's {@code isTxnReadonly} for one branch: ranges only (a nested txn is not read-only). */
  private static boolean readOnly(java.util.List<RequestOp> ops) {
    for (RequestOp op : ops) {
      if (!op.hasRequestRange()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Compaction compaction(ApplyContext ctx, CompactionRequest r) {
    checkCorrupt();
    return next.compaction(ctx, r);
  }

  @Override
  public LeaseGrantResponse leaseGrant(ApplyContext ctx, LeaseGrantRequest r) {
    checkSpace();
    return next.leaseGrant(ctx, r);
  }

  @Override
  public LeaseRevokeResponse leaseRevoke(ApplyContext ctx, LeaseRevokeRequest r) {
    checkCorrupt();
    return next.leaseRevoke(ctx, r);
  }

  /** The leader's revocation of expired leases: etcd revokes them with LeaseRevoke, refused as it is. */
  @Override
  public LeaseRevokeResponse leaseExpire(ApplyContext ctx, LeaseExpire r) {
    checkCorrupt();
    return next.leaseExpire(ctx, r);
  }
}
