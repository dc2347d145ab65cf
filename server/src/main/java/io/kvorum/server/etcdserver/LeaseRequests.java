package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseLeasesResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseStatus;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.server.apply.BackendQuota;
import io.kvorum.server.lease.Lessor;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The member's lease requests: grants and revokes go through the log (a grant must fit in the
 * backend quota, and one without an id gets a positive one, as etcd chooses them); renewals and
 * time-to-live queries are served by the leader ({@link LeaderCalls}); listings are this member's
 * applied leases.
 */
final class LeaseRequests implements LeaseServer {
  private final Proposer proposer;
  private final QuotaAlarmer quota;
  private final Lessor lessor;
  private final LeaderCalls leaderCalls;
  private final Supplier<ResponseHeader> header;

  LeaseRequests(Proposer proposer, QuotaAlarmer quota, Lessor lessor, LeaderCalls leaderCalls,
      Supplier<ResponseHeader> header) {
    this.proposer = proposer;
    this.quota = quota;
    this.lessor = lessor;
    this.leaderCalls = leaderCalls;
    this.header = header;
  }

  @Override
  public CompletableFuture<LeaseGrantResponse> leaseGrant(RequestContext ctx, LeaseGrantRequest r) {
    if (!quota.fits(BackendQuota.LEASE_GRANT_COST_BYTES)) {
      return quota.refuse(ctx);
    }
    LeaseGrantRequest.Builder b = r.toBuilder();
    while (b.getID() == 0) {
      b.setID(proposer.nextId() & Long.MAX_VALUE);
    }
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setLeaseGrant(b), LeaseGrantResponse.class);
  }

  @Override
  public CompletableFuture<LeaseRevokeResponse> leaseRevoke(RequestContext ctx, LeaseRevokeRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setLeaseRevoke(r), LeaseRevokeResponse.class);
  }

  @Override
  public LeaseLeasesResponse leaseLeases(RequestContext ctx) {
    LeaseLeasesResponse.Builder b = LeaseLeasesResponse.newBuilder().setHeader(header.get());
    for (long id : lessor.ids()) {
      b.addLeases(LeaseStatus.newBuilder().setID(id));
    }
    return b.build();
  }

  @Override
  public CompletableFuture<LeaseKeepAliveResponse> leaseRenew(RequestContext ctx, long id) {
    return leaderCalls.renew(id).thenApply(r -> r.toBuilder().setHeader(header.get()).build());
  }

  @Override
  public CompletableFuture<LeaseTimeToLiveResponse> leaseTimeToLive(RequestContext ctx, LeaseTimeToLiveRequest r) {
    return leaderCalls.timeToLive(r).thenApply(resp -> resp.toBuilder().setHeader(header.get()).build());
  }
}
