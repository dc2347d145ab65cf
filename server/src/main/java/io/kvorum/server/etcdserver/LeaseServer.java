package io.kvorum.server.etcdserver;

import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseLeasesResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import java.util.concurrent.CompletableFuture;

/** etcd's Lease service as the member serves it (etcd's {@code Lessor} server interface). */
public interface LeaseServer {
  CompletableFuture<LeaseGrantResponse> leaseGrant(RequestContext ctx, LeaseGrantRequest r);

  CompletableFuture<LeaseRevokeResponse> leaseRevoke(RequestContext ctx, LeaseRevokeRequest r);

  /** Every lease this member knows (applied state), as etcd lists them locally. */
  LeaseLeasesResponse leaseLeases(RequestContext ctx);

  /**
   * Renews a lease at the leader (forwarded there from a follower); TTL 0 if the lease does not
   * exist or already expired (etcd's keep-alive answer for a lost lease).
   */
  CompletableFuture<LeaseKeepAliveResponse> leaseRenew(RequestContext ctx, long id);

  /** A lease's remaining TTL as the leader sees it; TTL -1 for an unknown lease (etcd 3.4). */
  CompletableFuture<LeaseTimeToLiveResponse> leaseTimeToLive(RequestContext ctx, LeaseTimeToLiveRequest r);
}
