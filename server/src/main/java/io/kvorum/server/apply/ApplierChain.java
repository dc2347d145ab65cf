package io.kvorum.server.apply;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.proto.serverpb.RequestHeader;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.mvcc.CompactedException;
import io.kvorum.server.mvcc.FutureRevisionException;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.ConsistentIndex;

/**
 * The applier chain, in etcd's order — alarm ({@code corrupt} or {@code capped}, only while an
 * alarm is active) → auth → quota → backend — and the dispatch of one committed entry through it.
 *
 * <p>Each entry is decoded, routed by its request type to the chain's typed method, and its
 * typed result (or etcd error) handed to {@link Results} under the proposer's request id. An entry
 * this member cannot decode, or whose request type it does not know, stops the member: applying
 * it as a no-op could let members diverge (a newer member might apply it), and acknowledging it
 * would tell a client that a request took effect when it did not.
 */
public final class ApplierChain {
  /** Response headers as this member writes them (its ids and raft term, the given revision). */
  public interface Headers {
    ResponseHeader header(long revision);
  }

  /** Applies a member's published attributes to the membership, persisted with the entry's index. */
  public interface Publisher {
    void publish(ApplyContext ctx, MemberAttributes attributes);
  }

  /** Where results go: the proposing member's waiter for the request id, if it still waits. */
  public interface Results {
    /** The request applied with {@code result} (of the type its request's method returns). */
    void complete(long requestId, Object result);

    /**
     * The request failed with {@code error}: refused with nothing changed, or — etcd's no-space
     * error from the quota link — applied over the quota.
     */
    void fail(long requestId, EtcdException error);
  }

  /** An entry that cannot be applied; the member stops. */
  public static final class UnappliableEntryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    UnappliableEntryException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final RequestApplier first;
  private final Results results;

  public ApplierChain(KvStore kv, Lessor lessor, AuthStore auth, Alarms alarms, BackendQuota quota,
      Headers headers, Publisher publisher, Results results) {
    this.first = build(alarms, auth, lessor, quota, new BackendApplier(kv, lessor, auth, alarms, headers, publisher));
    this.results = results;
  }

  /** The links in front of {@code backend}, in etcd's order. */
  static RequestApplier build(Alarms alarms, AuthStore auth, Lessor lessor, BackendQuota quota,
      RequestApplier backend) {
    return new AlarmLink(alarms, new AuthLink(auth, lessor, new QuotaLink(quota, backend)));
  }

  /** Applies the request in entry {@code at} and reports its outcome. */
  public void apply(ConsistentIndex at, byte[] data) {
    InternalRaftRequest req;
    try {
      req = InternalRaftRequest.parseFrom(data);
    } catch (InvalidProtocolBufferException e) {
      throw new UnappliableEntryException("cannot decode the request in entry " + at.index(), e);
    }
    RequestHeader h = req.getHeader();
    if (req.getRequestCase() == InternalRaftRequest.RequestCase.CLUSTER_VERSION
        || req.getRequestCase() == InternalRaftRequest.RequestCase.RANGE) {
      // Only in entries carried over from etcd's log by a migration: etcd 3.4 records the cluster
      // version it decided (Kvorum's is fixed at 3.4.0) and early etcd 3 members put ranges in the
      // log. Neither changes what a member holds, and no client waits for them here.
      return;
    }
    ApplyContext ctx = new ApplyContext(at, h.getId(), h.getUsername(), h.getAuthRevision());
    Object result;
    try {
      result = switch (req.getRequestCase()) {
        case PUT -> first.put(ctx, req.getPut());
        case DELETE_RANGE -> first.deleteRange(ctx, req.getDeleteRange());
        case TXN -> first.txn(ctx, req.getTxn());
        case COMPACTION -> first.compaction(ctx, req.getCompaction());
        case LEASE_GRANT -> first.leaseGrant(ctx, req.getLeaseGrant());
        case LEASE_REVOKE -> first.leaseRevoke(ctx, req.getLeaseRevoke());
        case LEASE_EXPIRE -> first.leaseExpire(ctx, req.getLeaseExpire());
        case LEASE_CHECKPOINT -> first.leaseCheckpoint(ctx, req.getLeaseCheckpoint());
        case ALARM -> first.alarm(ctx, req.getAlarm());
        case PUBLISH -> first.publish(ctx, req.getPublish());
        case AUTH_ENABLE -> first.authEnable(ctx, req.getAuthEnable());
        case AUTH_DISABLE -> first.authDisable(ctx, req.getAuthDisable());
        case AUTHENTICATE -> first.authenticate(ctx, req.getAuthenticate());
        case AUTH_USER_ADD -> first.userAdd(ctx, req.getAuthUserAdd());
        case AUTH_USER_DELETE -> first.userDelete(ctx, req.getAuthUserDelete());
        case AUTH_USER_CHANGE_PASSWORD -> first.userChangePassword(ctx, req.getAuthUserChangePassword());
        case AUTH_USER_GRANT_ROLE -> first.userGrantRole(ctx, req.getAuthUserGrantRole());
        case AUTH_USER_GET -> first.userGet(ctx, req.getAuthUserGet());
        case AUTH_USER_REVOKE_ROLE -> first.userRevokeRole(ctx, req.getAuthUserRevokeRole());
        case AUTH_ROLE_ADD -> first.roleAdd(ctx, req.getAuthRoleAdd());
        case AUTH_ROLE_GRANT_PERMISSION -> first.roleGrantPermission(ctx, req.getAuthRoleGrantPermission());
        case AUTH_ROLE_GET -> first.roleGet(ctx, req.getAuthRoleGet());
        case AUTH_ROLE_REVOKE_PERMISSION -> first.roleRevokePermission(ctx, req.getAuthRoleRevokePermission());
        case AUTH_ROLE_DELETE -> first.roleDelete(ctx, req.getAuthRoleDelete());
        case AUTH_USER_LIST -> first.userList(ctx, req.getAuthUserList());
        case AUTH_ROLE_LIST -> first.roleList(ctx, req.getAuthRoleList());
        default -> throw new UnappliableEntryException("entry " + at.index() + " holds a request this member "
            + "cannot apply: " + req.getRequestCase(), null);
      };
    } catch (CompactedException e) {
      results.fail(h.getId(), EtcdError.COMPACTED.exception());
      return;
    } catch (FutureRevisionException e) {
      results.fail(h.getId(), EtcdError.FUTURE_REV.exception());
      return;
    } catch (EtcdException e) {
      results.fail(h.getId(), e);
      return;
    }
    results.complete(h.getId(), result);
  }
}
