package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.server.apply.BackendQuota;
import io.kvorum.server.errors.EtcdError;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's {@code quotaAlarmer} ({@code v3rpc/quota.go}): before a put, txn or lease grant is
 * proposed, the member checks that it fits in the backend quota; when it does not, the member
 * raises the NOSPACE alarm for itself through the log and, once that is done, refuses the request
 * with etcd's no-space error. The same happens when an entry turns out not to fit as it is applied
 * ({@link #raiseThen}), as etcd's {@code applyEntryNormal} does.
 */
final class QuotaAlarmer {
  private static final Logger LOG = LoggerFactory.getLogger(QuotaAlarmer.class);

  private final long memberId;
  private final BackendQuota quota;
  private final Proposer proposer;

  QuotaAlarmer(long memberId, BackendQuota quota, Proposer proposer) {
    this.memberId = memberId;
    this.quota = quota;
    this.proposer = proposer;
  }

  /** Whether a request of {@code costBytes} fits in the quota now. */
  boolean fits(long costBytes) {
    return quota.available(costBytes);
  }

  /** Raises the NOSPACE alarm, then fails with etcd's no-space error (whether raising worked or not). */
  <T> CompletableFuture<T> refuse(RequestContext ctx) {
    CompletableFuture<T> out = new CompletableFuture<>();
    raise(ctx).whenComplete((v, err) -> out.completeExceptionally(EtcdError.NO_SPACE.exception()));
    return out;
  }

  /**
   * An applied entry did not fit: raises the alarm, then runs {@code then} (which answers the
   * entry's client with the no-space error). Called on the apply thread; does not block it.
   */
  void raiseThen(Runnable then) {
    LOG.warn("message exceeded backend quota; raising alarm (quota-size-bytes {})", quota.quotaBytes());
    raise(RequestContext.MEMBER).whenComplete((v, err) -> then.run());
  }

  private CompletableFuture<AlarmResponse> raise(RequestContext ctx) {
    AlarmRequest a = AlarmRequest.newBuilder().setMemberID(memberId).setAction(AlarmRequest.AlarmAction.ACTIVATE)
        .setAlarm(AlarmType.NOSPACE).build();
    try {
      return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAlarm(a), AlarmResponse.class);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
