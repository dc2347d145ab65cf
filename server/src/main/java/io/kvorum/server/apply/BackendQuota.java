package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * etcd's {@code backendQuota} ({@code etcdserver/quota.go}): whether a request that adds data fits
 * in {@code --quota-backend-bytes}, by etcd's cost estimate of the request against the member's
 * size. Checked by the member before it proposes a put, txn or lease grant (which raises the
 * NOSPACE alarm when it does not fit) and again by the quota link when the entry is applied.
 *
 * <p>The size is Kvorum's logical one (see the member's {@code LogicalSize}): what the member's
 * records take, a function of the applied entries, where etcd measures its bbolt file.
 */
public final class BackendQuota {
  /** etcd's {@code kvOverhead}: the estimated cost of a key's metadata, per put. */
  public static final long PUT_OVERHEAD_BYTES = 256;
  /** etcd's {@code leaseOverhead}: the estimated cost of a lease grant. */
  public static final long LEASE_GRANT_COST_BYTES = 64;

  private final long quotaBytes;
  private final LongSupplier sizeBytes;

  /**
   * @param quotaBytes the quota; negative for none (etcd's passthrough quota)
   * @param sizeBytes the member's current size
   */
  public BackendQuota(long quotaBytes, LongSupplier sizeBytes) {
    this.quotaBytes = quotaBytes;
    this.sizeBytes = sizeBytes;
  }

  /** No quota: every request fits. */
  public static BackendQuota none() {
    return new BackendQuota(-1, () -> 0);
  }

  /** The quota in bytes; negative when there is none. */
  public long quotaBytes() {
    return quotaBytes;
  }

  /** Whether a request of {@code costBytes} fits (etcd's {@code Available}: a free request always does). */
  public boolean available(long costBytes) {
    if (costBytes == 0 || quotaBytes < 0) {
      return true;
    }
    return sizeBytes.getAsLong() + costBytes < quotaBytes;
  }

  /** etcd's {@code costPut}: the overhead plus the key and value. */
  public static long cost(PutRequest r) {
    return PUT_OVERHEAD_BYTES + r.getKey().size() + r.getValue().size();
  }

  /**
   * etcd's {@code costTxn}: the puts of the larger branch, counting only puts at the top level
   * (a nested txn costs nothing, as in etcd).
   */
  public static long cost(TxnRequest r) {
    return Math.max(costOf(r.getSuccessList()), costOf(r.getFailureList()));
  }

  private static long costOf(List<RequestOp> ops) {
    long total = 0;
    for (RequestOp op : ops) {
      if (op.hasRequestPut()) {
        total += cost(op.getRequestPut());
      }
    }
    return total;
  }
}
