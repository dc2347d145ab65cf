package io.kvorum.server.etcdserver;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AuthDisableResponse;
import io.kvorum.proto.etcdserverpb.AuthEnableResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleAddResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleDeleteResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleGetRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGetResponse;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionResponse;
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
import io.kvorum.proto.etcdserverpb.AuthUserListResponse;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthUserRevokeRoleResponse;
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateResponse;
import java.util.concurrent.CompletableFuture;

/** etcd's Auth service as the member serves it, and who a client call's credentials name. */
public interface AuthServer {
  /**
   * {@code ctx} as the user {@code c} names (etcd's {@code AuthInfoFromCtx}, then the client
   * certificate with {@code --client-cert-auth}); unchanged without credentials. Fails with etcd's
   * {@code invalid auth token} for a token this member does not know (after waiting, bounded by
   * the request timeout, for the log entry a simple token names).
   */
  CompletableFuture<RequestContext> identify(RequestContext ctx, Credentials c);

  CompletableFuture<AuthEnableResponse> authEnable(RequestContext ctx);

  CompletableFuture<AuthDisableResponse> authDisable(RequestContext ctx);

  CompletableFuture<AuthenticateResponse> authenticate(RequestContext ctx, AuthenticateRequest r);

  CompletableFuture<AuthUserAddResponse> userAdd(RequestContext ctx, AuthUserAddRequest r);

  CompletableFuture<AuthUserGetResponse> userGet(RequestContext ctx, AuthUserGetRequest r);

  CompletableFuture<AuthUserListResponse> userList(RequestContext ctx);

  CompletableFuture<AuthUserDeleteResponse> userDelete(RequestContext ctx, AuthUserDeleteRequest r);

  CompletableFuture<AuthUserChangePasswordResponse> userChangePassword(RequestContext ctx,
      AuthUserChangePasswordRequest r);

  CompletableFuture<AuthUserGrantRoleResponse> userGrantRole(RequestContext ctx, AuthUserGrantRoleRequest r);

  CompletableFuture<AuthUserRevokeRoleResponse> userRevokeRole(RequestContext ctx, AuthUserRevokeRoleRequest r);

  CompletableFuture<AuthRoleAddResponse> roleAdd(RequestContext ctx, AuthRoleAddRequest r);

  CompletableFuture<AuthRoleGetResponse> roleGet(RequestContext ctx, AuthRoleGetRequest r);

  CompletableFuture<AuthRoleListResponse> roleList(RequestContext ctx);

  CompletableFuture<AuthRoleDeleteResponse> roleDelete(RequestContext ctx, AuthRoleDeleteRequest r);

  CompletableFuture<AuthRoleGrantPermissionResponse> roleGrantPermission(RequestContext ctx,
      AuthRoleGrantPermissionRequest r);

  CompletableFuture<AuthRoleRevokePermissionResponse> roleRevokePermission(RequestContext ctx,
      AuthRoleRevokePermissionRequest r);

  /** Fails with etcd's admin-check error unless the context's user holds the root role (or auth is off). */
  void checkAdmin(RequestContext ctx);

  /** Fails unless the context's user may read {@code [key, rangeEnd)} (etcd's watch-create check). */
  void checkRange(RequestContext ctx, ByteString key, ByteString rangeEnd);
}
