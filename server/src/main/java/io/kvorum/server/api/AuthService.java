package io.kvorum.server.api;

import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.AuthDisableRequest;
import io.kvorum.proto.etcdserverpb.AuthDisableResponse;
import io.kvorum.proto.etcdserverpb.AuthEnableRequest;
import io.kvorum.proto.etcdserverpb.AuthEnableResponse;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
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
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddResponse;
import io.kvorum.proto.etcdserverpb.AuthUserChangePasswordRequest;
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
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateResponse;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;

/**
 * etcd's Auth service. Every call is identified first (its token or client certificate), as etcd
 * identifies every request that goes through the log; the member then checks, at apply, what the
 * user may do.
 */
final class AuthService extends AuthGrpc.AuthImplBase {
  private static final RequestContext AUTH_ENABLE = Requests.base(AuthGrpc.getAuthEnableMethod());
  private static final RequestContext AUTH_DISABLE = Requests.base(AuthGrpc.getAuthDisableMethod());
  private static final RequestContext AUTHENTICATE = Requests.base(AuthGrpc.getAuthenticateMethod());
  private static final RequestContext USER_ADD = Requests.base(AuthGrpc.getUserAddMethod());
  private static final RequestContext USER_GET = Requests.base(AuthGrpc.getUserGetMethod());
  private static final RequestContext USER_LIST = Requests.base(AuthGrpc.getUserListMethod());
  private static final RequestContext USER_DELETE = Requests.base(AuthGrpc.getUserDeleteMethod());
  private static final RequestContext USER_CHANGE_PASSWORD = Requests.base(AuthGrpc.getUserChangePasswordMethod());
  private static final RequestContext USER_GRANT_ROLE = Requests.base(AuthGrpc.getUserGrantRoleMethod());
  private static final RequestContext USER_REVOKE_ROLE = Requests.base(AuthGrpc.getUserRevokeRoleMethod());
  private static final RequestContext ROLE_ADD = Requests.base(AuthGrpc.getRoleAddMethod());
  private static final RequestContext ROLE_GET = Requests.base(AuthGrpc.getRoleGetMethod());
  private static final RequestContext ROLE_LIST = Requests.base(AuthGrpc.getRoleListMethod());
  private static final RequestContext ROLE_DELETE = Requests.base(AuthGrpc.getRoleDeleteMethod());
  private static final RequestContext ROLE_GRANT_PERMISSION = Requests.base(AuthGrpc.getRoleGrantPermissionMethod());
  private static final RequestContext ROLE_REVOKE_PERMISSION = Requests.base(AuthGrpc.getRoleRevokePermissionMethod());
  private final MemberView member;
  private final AuthServer auth;

  AuthService(MemberView member, AuthServer auth) {
    this.member = member;
    this.auth = auth;
  }

  private RequestContext ctx(RequestContext base) {
    return Requests.current(base, member.clock());
  }

  @Override
  public void authEnable(AuthEnableRequest request, StreamObserver<AuthEnableResponse> out) {
    CallerCredentials.answer(out, auth, ctx(AUTH_ENABLE), c -> auth.authEnable(c));
  }

  @Override
  public void authDisable(AuthDisableRequest request, StreamObserver<AuthDisableResponse> out) {
    CallerCredentials.answer(out, auth, ctx(AUTH_DISABLE), c -> auth.authDisable(c));
  }

  @Override
  public void authenticate(AuthenticateRequest request, StreamObserver<AuthenticateResponse> out) {
    CallerCredentials.answer(out, auth, ctx(AUTHENTICATE), c -> auth.authenticate(c, request));
  }

  @Override
  public void userAdd(AuthUserAddRequest request, StreamObserver<AuthUserAddResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_ADD), c -> auth.userAdd(c, request));
  }

  @Override
  public void userGet(AuthUserGetRequest request, StreamObserver<AuthUserGetResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_GET), c -> auth.userGet(c, request));
  }

  @Override
  public void userList(AuthUserListRequest request, StreamObserver<AuthUserListResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_LIST), c -> auth.userList(c));
  }

  @Override
  public void userDelete(AuthUserDeleteRequest request, StreamObserver<AuthUserDeleteResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_DELETE), c -> auth.userDelete(c, request));
  }

  @Override
  public void userChangePassword(AuthUserChangePasswordRequest request, StreamObserver<AuthUserChangePasswordResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_CHANGE_PASSWORD), c -> auth.userChangePassword(c, request));
  }

  @Override
  public void userGrantRole(AuthUserGrantRoleRequest request, StreamObserver<AuthUserGrantRoleResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_GRANT_ROLE), c -> auth.userGrantRole(c, request));
  }

  @Override
  public void userRevokeRole(AuthUserRevokeRoleRequest request, StreamObserver<AuthUserRevokeRoleResponse> out) {
    CallerCredentials.answer(out, auth, ctx(USER_REVOKE_ROLE), c -> auth.userRevokeRole(c, request));
  }

  @Override
  public void roleAdd(AuthRoleAddRequest request, StreamObserver<AuthRoleAddResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ROLE_ADD), c -> auth.roleAdd(c, request));
  }

  @Override
  public void roleGet(AuthRoleGetRequest request, StreamObserver<AuthRoleGetResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ROLE_GET), c -> auth.roleGet(c, request));
  }

  @Override
  public void roleList(AuthRoleListRequest request, StreamObserver<AuthRoleListResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ROLE_LIST), c -> auth.roleList(c));
  }

  @Override
  public void roleDelete(AuthRoleDeleteRequest request, StreamObserver<AuthRoleDeleteResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ROLE_DELETE), c -> auth.roleDelete(c, request));
  }

  @Override
  public void roleGrantPermission(AuthRoleGrantPermissionRequest request, StreamObserver<AuthRoleGrantPermissionResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ROLE_GRANT_PERMISSION), c -> auth.roleGrantPermission(c, request));
  }

  @Override
  public void roleRevokePermission(AuthRoleRevokePermissionRequest request, StreamObserver<AuthRoleRevokePermissionResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ROLE_REVOKE_PERMISSION), c -> auth.roleRevokePermission(c, request));
  }
}
