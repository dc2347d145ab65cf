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

/**
 * One link of the applier chain (etcd's {@code applierV3}): a method per replicated request type,
 * each with its typed result. A link checks what it is for and passes the request on, or refuses
 * it with an {@link io.kvorum.server.errors.EtcdException}; the last link, {@link BackendApplier},
 * changes the state. Called on the apply thread only, in log order, deterministically.
 */
public interface RequestApplier {
  PutResponse put(ApplyContext ctx, PutRequest r);

  DeleteRangeResponse deleteRange(ApplyContext ctx, DeleteRangeRequest r);

  TxnResponse txn(ApplyContext ctx, TxnRequest r);

  Compaction compaction(ApplyContext ctx, CompactionRequest r);

  LeaseGrantResponse leaseGrant(ApplyContext ctx, LeaseGrantRequest r);

  LeaseRevokeResponse leaseRevoke(ApplyContext ctx, LeaseRevokeRequest r);

  /** The leader's batch of expired leases: those still present are revoked in one revision. */
  LeaseRevokeResponse leaseExpire(ApplyContext ctx, LeaseExpire r);

  LeaseCheckpointResponse leaseCheckpoint(ApplyContext ctx, LeaseCheckpointRequest r);

  /** A member's name and client URLs, published once it started. */
  Published publish(ApplyContext ctx, MemberAttributes r);
}
