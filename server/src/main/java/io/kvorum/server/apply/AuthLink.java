package io.kvorum.server.apply;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AuthDisableRequest;
import io.kvorum.proto.etcdserverpb.AuthDisableResponse;
import io.kvorum.proto.etcdserverpb.AuthEnableRequest;
import io.kvorum.proto.etcdserverpb.AuthEnableResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleAddResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleGetRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGetResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleListRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleListResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleRevokePermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleRevokePermissionResponse;
import io.kvorum.proto.etcdserverpb.AuthUserAddResponse;
import io.kvorum.proto.etcdserverpb.AuthUserChangePasswordResponse;
import io.kvorum.proto.etcdserverpb.AuthUserDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthUserDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthUserGetRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGetResponse;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleResponse;
import io.kvorum.proto.etcdserverpb.AuthUserListRequest;
import io.kvorum.proto.etcdserverpb.AuthUserListResponse;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleResponse;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.proto.serverpb.AuthUserAdd;
import io.kvorum.proto.serverpb.AuthUserChangePassword;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.lease.Lessor;
import java.util.List;

/**
 * The auth link (etcd's {@code authApplierV3}): checks at apply time, against the auth store as it
 * is at this entry on every member, that the request's user may do what it asks — so a permission
 * revoked while the request waited in the log is honoured. The checks are etcd 3.4.23's:
 *
 * <ul>
 *   <li>Put: write on the key; read on it too with {@code prev_kv}; a lease given must have only
 *       keys the user may write (otherwise the user could not revoke it).
 *   <li>DeleteRange: write on the range; read too with {@code prev_kv}.
 *   <li>Txn: read on every compare's range, and each operation of both branches as above
 *       (a put inside a txn is checked for its key alone, as in etcd). Unlike etcd 3.4, which
 *       does not look inside a nested txn, nested txns are checked the same way.
 *   <li>LeaseRevoke: write on every key attached to the lease.
 *   <li>The auth management requests: the root role, except a user reading itself
 *       ({@code UserGet}) or a role it holds ({@code RoleGet}). Authenticate: nothing.
 *   <li>Compaction, LeaseGrant, lease expiry and checkpoints, publishing: nothing.
 * </ul>
 */
final class AuthLink extends ApplierLink {
  private final AuthStore auth;
  private final Lessor lessor;

  AuthLink(AuthStore auth, Lessor lessor, RequestApplier next) {
    super(next);
    this.auth = auth;
    this.lessor = lessor;
  }

  @Override
  public PutResponse put(ApplyContext ctx, PutRequest r) {
    if (auth.isEnabled()) {
      auth.checkPut(ctx.user(), ctx.authRevision(), r.getKey());
      checkLeaseKeys(ctx, r.getLease());
      if (r.getPrevKv()) {
        auth.checkRange(ctx.user(), ctx.authRevision(), r.getKey(), ByteString.EMPTY);
      }
    }
    return next.put(ctx, r);
  }

  @Override
  public DeleteRangeResponse deleteRange(ApplyContext ctx, DeleteRangeRequest r) {
    if (auth.isEnabled()) {
      auth.checkDeleteRange(ctx.user(), ctx.authRevision(), r.getKey(), r.getRangeEnd());
      if (r.getPrevKv()) {
        auth.checkRange(ctx.user(), ctx.authRevision(), r.getKey(), r.getRangeEnd());
      }
    }
    return next.deleteRange(ctx, r);
  }

  @Override
  public TxnResponse txn(ApplyContext ctx, TxnRequest r) {
    if (auth.isEnabled()) {
      checkTxn(ctx, r);
    }
    return next.txn(ctx, r);
  }

  private void checkTxn(ApplyContext ctx, TxnRequest r) {
    for (Compare c : r.getCompareList()) {
      auth.checkRange(ctx.user(), ctx.authRevision(), c.getKey(), c.getRangeEnd());
    }
    checkOps(ctx, r.getSuccessList());
    checkOps(ctx, r.getFailureList());
  }

  private void checkOps(ApplyContext ctx, List<RequestOp> ops) {
    for (RequestOp op : ops) {
      switch (op.getRequestCase()) {
        case REQUEST_RANGE -> auth.checkRange(ctx.user(), ctx.authRevision(), op.getRequestRange().getKey(),
            op.getRequestRange().getRangeEnd());
        case REQUEST_PUT -> auth.checkPut(ctx.user(), ctx.authRevision(), op.getRequestPut().getKey());
        case REQUEST_DELETE_RANGE -> {
          DeleteRangeRequest d = op.getRequestDeleteRange();
          if (d.getPrevKv()) {
            auth.checkRange(ctx.user(), ctx.authRevision(), d.getKey(), d.getRangeEnd());
          }
          auth.checkDeleteRange(ctx.user(), ctx.authRevision(), d.getKey(), d.getRangeEnd());
        }
        case REQUEST_TXN -> checkTxn(ctx, op.getRequestTxn());
        case REQUEST_NOT_SET -> { }
      }
    }
  }

  @Override
  public LeaseRevokeResponse leaseRevoke(ApplyContext ctx, LeaseRevokeRequest r) {
    if (auth.isEnabled()) {
      checkLeaseKeys(ctx, r.getID());
    }
    return next.leaseRevoke(ctx, r);
  }

  /** Write permission on every key attached to lease {@code id} (none: no lease, or an unknown one). */
  private void checkLeaseKeys(ApplyContext ctx, long id) {
    if (id == 0 || !lessor.exists(id)) {
      return;
    }
    for (ByteString key : lessor.keys(id)) {
      auth.checkPut(ctx.user(), ctx.authRevision(), key);
    }
  }

  private void admin(ApplyContext ctx) {
    auth.checkAdmin(ctx.user());
  }

  @Override
  public AuthEnableResponse authEnable(ApplyContext ctx, AuthEnableRequest r) {
    admin(ctx);
    return next.authEnable(ctx, r);
  }

  @Override
  public AuthDisableResponse authDisable(ApplyContext ctx, AuthDisableRequest r) {
    admin(ctx);
    return next.authDisable(ctx, r);
  }

  @Override
  public AuthUserAddResponse userAdd(ApplyContext ctx, AuthUserAdd r) {
    admin(ctx);
    return next.userAdd(ctx, r);
  }

  @Override
  public AuthUserDeleteResponse userDelete(ApplyContext ctx, AuthUserDeleteRequest r) {
    admin(ctx);
    return next.userDelete(ctx, r);
  }

  @Override
  public AuthUserChangePasswordResponse userChangePassword(ApplyContext ctx, AuthUserChangePassword r) {
    admin(ctx);
    return next.userChangePassword(ctx, r);
  }

  @Override
  public AuthUserGrantRoleResponse userGrantRole(ApplyContext ctx, AuthUserGrantRoleRequest r) {
    admin(ctx);
    return next.userGrantRole(ctx, r);
  }

  @Override
  public AuthUserGetResponse userGet(ApplyContext ctx, AuthUserGetRequest r) {
    try {
      admin(ctx);
    } catch (EtcdException e) {
      if (!r.getName().equals(ctx.user())) {
        throw e;
      }
    }
    return next.userGet(ctx, r);
  }

  @Override
  public AuthUserRevokeRoleResponse userRevokeRole(ApplyContext ctx, AuthUserRevokeRoleRequest r) {
    admin(ctx);
    return next.userRevokeRole(ctx, r);
  }

  @Override
  public AuthRoleAddResponse roleAdd(ApplyContext ctx, AuthRoleAddRequest r) {
    admin(ctx);
    return next.roleAdd(ctx, r);
  }

  @Override
  public AuthRoleGrantPermissionResponse roleGrantPermission(ApplyContext ctx, AuthRoleGrantPermissionRequest r) {
    admin(ctx);
    return next.roleGrantPermission(ctx, r);
  }

  @Override
  public AuthRoleGetResponse roleGet(ApplyContext ctx, AuthRoleGetRequest r) {
    try {
      admin(ctx);
    } catch (EtcdException e) {
      if (!auth.hasRole(ctx.user(), r.getRole())) {
        throw e;
      }
    }
    return next.roleGet(ctx, r);
  }

  @Override
  public AuthRoleRevokePermissionResponse roleRevokePermission(ApplyContext ctx,
      AuthRoleRevokePermissionRequest r) {
    admin(ctx);
    return next.roleRevokePermission(ctx, r);
  }

  @Override
  public AuthRoleDeleteResponse roleDelete(ApplyContext ctx, AuthRoleDeleteRequest r) {
    admin(ctx);
    return next.roleDelete(ctx, r);
  }

  @Override
  public AuthUserListResponse userList(ApplyContext ctx, AuthUserListRequest r) {
    admin(ctx);
    return next.userList(ctx, r);
  }

  @Override
  public AuthRoleListResponse roleList(ApplyContext ctx, AuthRoleListRequest r) {
    admin(ctx);
    return next.roleList(ctx, r);
  }
}
