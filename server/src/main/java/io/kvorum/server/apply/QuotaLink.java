package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.server.errors.EtcdError;

/**
 * The quota link (etcd's {@code quotaApplierV3}): a put, txn or lease grant that did not fit in the
 * quota when its entry came up is applied all the same, and then answered with etcd's no-space
 * error. Applying it keeps every member's state the same whatever each one decided (in etcd, each
 * member measures its own file); the error tells the client, and the member that sees it raises
 * the NOSPACE alarm through the log (see {@link ApplierChain.Results#fail}).
 */
final class QuotaLink extends ApplierLink {
  private final BackendQuota quota;

  QuotaLink(BackendQuota quota, RequestApplier next) {
    super(next);
    this.quota = quota;
  }

  @Override
  public PutResponse put(ApplyContext ctx, PutRequest r) {
    boolean fits = quota.available(BackendQuota.cost(r));
    PutResponse resp = next.put(ctx, r);
    if (!fits) {
      throw EtcdError.NO_SPACE.exception();
    }
    return resp;
  }

  @Override
  public TxnResponse txn(ApplyContext ctx, TxnRequest r) {
    boolean fits = quota.available(BackendQuota.cost(r));
    TxnResponse resp = next.txn(ctx, r);
    if (!fits) {
      throw EtcdError.NO_SPACE.exception();
    }
    return resp;
  }

  @Override
  public LeaseGrantResponse leaseGrant(ApplyContext ctx, LeaseGrantRequest r) {
    boolean fits = quota.available(BackendQuota.LEASE_GRANT_COST_BYTES);
    LeaseGrantResponse resp = next.leaseGrant(ctx, r);
    if (!fits) {
      throw EtcdError.NO_SPACE.exception();
    }
    return resp;
  }
}
