package io.kvorum.server.apply;

import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
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
import io.kvorum.proto.serverpb.AuthUserAdd;
import io.kvorum.proto.serverpb.AuthUserChangePassword;
import io.kvorum.proto.serverpb.Authenticate;
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
  public AlarmResponse alarm(ApplyContext ctx, AlarmRequest r) {
    return next.alarm(ctx, r);
  }

  @Override
  public Published publish(ApplyContext ctx, MemberAttributes r) {
    return next.publish(ctx, r);
  }

  @Override
  public AuthEnableResponse authEnable(ApplyContext ctx, AuthEnableRequest r) {
    return next.authEnable(ctx, r);
  }

  @Override
  public AuthDisableResponse authDisable(ApplyContext ctx, AuthDisableRequest r) {
    return next.authDisable(ctx, r);
  }

  @Override
  public Authenticated authenticate(ApplyContext ctx, Authenticate r) {
    return next.authenticate(ctx, r);
  }

  @Override
  public AuthUserAddResponse userAdd(ApplyContext ctx, AuthUserAdd r) {
    return next.userAdd(ctx, r);
  }

  @Override
  public AuthUserDeleteResponse userDelete(ApplyContext ctx, AuthUserDeleteRequest r) {
    return next.userDelete(ctx, r);
  }

  @Override
  public AuthUserChangePasswordResponse userChangePassword(ApplyContext ctx, AuthUserChangePassword r) {
    return next.userChangePassword(ctx, r);
  }

  @Override
  public AuthUserGrantRoleResponse userGrantRole(ApplyContext ctx, AuthUserGrantRoleRequest r) {
    return next.userGrantRole(ctx, r);
  }

  @Override
  public AuthUserGetResponse userGet(ApplyContext ctx, AuthUserGetRequest r) {
    return next.userGet(ctx, r);
  }

  @Override
  public AuthUserRevokeRoleResponse userRevokeRole(ApplyContext ctx, AuthUserRevokeRoleRequest r) {
    return next.userRevokeRole(ctx, r);
  }

  @Override
  public AuthRoleAddResponse roleAdd(ApplyContext ctx, AuthRoleAddRequest r) {
    return next.roleAdd(ctx, r);
  }

  @Override
  public AuthRoleGrantPermissionResponse roleGrantPermission(ApplyContext ctx, AuthRoleGrantPermissionRequest r) {
    return next.roleGrantPermission(ctx, r);
  }

  @Override
  public AuthRoleGetResponse roleGet(ApplyContext ctx, AuthRoleGetRequest r) {
    return next.roleGet(ctx, r);
  }

  @Override
  public AuthRoleRevokePermissionResponse roleRevokePermission(ApplyContext ctx, AuthRoleRevokePermissionRequest r) {
    return next.roleRevokePermission(ctx, r);
  }

  @Override
  public AuthRoleDeleteResponse roleDelete(ApplyContext ctx, AuthRoleDeleteRequest r) {
    return next.roleDelete(ctx, r);
  }

  @Override
  public AuthUserListResponse userList(ApplyContext ctx, AuthUserListRequest r) {
    return next.userList(ctx, r);
  }

  @Override
  public AuthRoleListResponse roleList(ApplyContext ctx, AuthRoleListRequest r) {
    return next.roleList(ctx, r);
  }
}
