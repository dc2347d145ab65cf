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

  /** etcd's {@code Alarm}: lists, raises or disarms alarms. */
  AlarmResponse alarm(ApplyContext ctx, AlarmRequest r);

  /** A member's name and client URLs, published once it started. */
  Published publish(ApplyContext ctx, MemberAttributes r);

  // Auth: etcd's authApplierV3 and applierV3backend methods of the same names.

  AuthEnableResponse authEnable(ApplyContext ctx, AuthEnableRequest r);

  AuthDisableResponse authDisable(ApplyContext ctx, AuthDisableRequest r);

  Authenticated authenticate(ApplyContext ctx, Authenticate r);

  AuthUserAddResponse userAdd(ApplyContext ctx, AuthUserAdd r);

  AuthUserDeleteResponse userDelete(ApplyContext ctx, AuthUserDeleteRequest r);

  AuthUserChangePasswordResponse userChangePassword(ApplyContext ctx, AuthUserChangePassword r);

  AuthUserGrantRoleResponse userGrantRole(ApplyContext ctx, AuthUserGrantRoleRequest r);

  AuthUserGetResponse userGet(ApplyContext ctx, AuthUserGetRequest r);

  AuthUserRevokeRoleResponse userRevokeRole(ApplyContext ctx, AuthUserRevokeRoleRequest r);

  AuthRoleAddResponse roleAdd(ApplyContext ctx, AuthRoleAddRequest r);

  AuthRoleGrantPermissionResponse roleGrantPermission(ApplyContext ctx, AuthRoleGrantPermissionRequest r);

  AuthRoleGetResponse roleGet(ApplyContext ctx, AuthRoleGetRequest r);

  AuthRoleRevokePermissionResponse roleRevokePermission(ApplyContext ctx, AuthRoleRevokePermissionRequest r);

  AuthRoleDeleteResponse roleDelete(ApplyContext ctx, AuthRoleDeleteRequest r);

  AuthUserListResponse userList(ApplyContext ctx, AuthUserListRequest r);

  AuthRoleListResponse roleList(ApplyContext ctx, AuthRoleListRequest r);
}
