package io.kvorum.server.etcdserver;

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
import io.kvorum.proto.serverpb.AuthUserAdd;
import io.kvorum.proto.serverpb.AuthUserChangePassword;
import io.kvorum.proto.serverpb.Authenticate;
import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.server.apply.Authenticated;
import io.kvorum.server.auth.AuthInfo;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.auth.TokenProvider;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member's Auth requests, and who a call's credentials name.
 *
 * <p>Every Auth RPC goes through the log, as in etcd 3.4 (the reads too, so they see every change
 * applied before them). Passwords never do: this member hashes a new password with bcrypt before
 * proposing it, and checks an authentication's password against its own applied store, then
 * proposes only the user name (with a simple token's random prefix). If the store moved on between
 * the check and the apply, it checks again (etcd's loop, bounded here). bcrypt runs on a small pool
 * of its own with a bounded queue — never on an event loop or the apply thread.
 */
final class AuthRequests implements AuthServer, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuthRequests.class);
  /** Password checks and hashes waiting for a bcrypt thread; beyond it, {@code too many requests}. */
  static final int BCRYPT_QUEUE_MAX = 64;
  /** bcrypt threads: each hash takes a core for tens of milliseconds. */
  static final int BCRYPT_THREADS = 2;
  /** Authentications tried again because the auth store moved between the password check and the apply. */
  static final int AUTHENTICATE_ATTEMPTS_MAX = 8;

  private final AuthStore store;
  private final TokenProvider tokens;
  private final Passwords passwords;
  private final Proposer proposer;
  private final LongSupplier appliedIndex;
  private final boolean clientCertAuth;
  private final ThreadPoolExecutor bcrypt;

  AuthRequests(AuthStore store, Passwords passwords, Proposer proposer, LongSupplier appliedIndex,
      boolean clientCertAuth) {
    this(store, passwords, proposer, appliedIndex, clientCertAuth, r -> {
      Thread t = new Thread(r, "kvorum-bcrypt");
      t.setDaemon(true);
      return t;
    });
  }

  /** As above, with the bcrypt threads made by {@code threads} (a test holds them to fill the queue). */
  AuthRequests(AuthStore store, Passwords passwords, Proposer proposer, LongSupplier appliedIndex,
      boolean clientCertAuth, ThreadFactory threads) {
    this.store = store;
    this.tokens = store.tokens();
    this.passwords = passwords;
    this.proposer = proposer;
    this.appliedIndex = appliedIndex;
    this.clientCertAuth = clientCertAuth;
    this.bcrypt = new ThreadPoolExecutor(BCRYPT_THREADS, BCRYPT_THREADS, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(BCRYPT_QUEUE_MAX), threads);
    bcrypt.allowCoreThreadTimeOut(true);
  }

  /** Runs {@code work} (a bcrypt hash or check) on the bcrypt pool. */
  private <T> CompletableFuture<T> onBcrypt(Supplier<T> work) {
    try {
      return CompletableFuture.supplyAsync(work, bcrypt);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(bcrypt.isShutdown() ? EtcdError.STOPPED.exception()
          : EtcdError.REQUEST_TOO_MANY_REQUESTS.exception());
    }
  }

  // ---------------------------------------------------------------- identity

  @Override
  public CompletableFuture<RequestContext> identify(RequestContext ctx, Credentials c) {
    String token = c.token();
    if (token != null) {
      long needed = tokens.appliedIndexNeeded(token);
      if (needed > appliedIndex.getAsLong()) {
        // A simple token from an authentication this member has not applied yet: wait for it, as
        // etcd does, within the request's time; then it is known here or it is not.
        return proposer.waitApplied(ctx, needed).handle((v, err) -> byToken(ctx, token))
            .thenCompose(f -> f);
      }
      return byToken(ctx, token);
    }
    if (clientCertAuth && c.commonName() != null && !c.viaGateway()) {
      return CompletableFuture.completedFuture(ctx.withAuth(c.commonName(), store.revision()));
    }
    return CompletableFuture.completedFuture(ctx);
  }

  private CompletableFuture<RequestContext> byToken(RequestContext ctx, String token) {
    AuthInfo ai = tokens.info(token, store.revision());
    if (ai == null) {
      LOG.warn("invalid auth token");
      return CompletableFuture.failedFuture(EtcdError.INVALID_AUTH_TOKEN.exception());
    }
    return CompletableFuture.completedFuture(ctx.withAuth(ai.user(), ai.revision()));
  }

  @Override
  public void checkAdmin(RequestContext ctx) {
    store.checkAdmin(ctx.user());
  }

  @Override
  public void checkRange(RequestContext ctx, ByteString key, ByteString rangeEnd) {
    store.checkRange(ctx.user(), ctx.authRevision(), key, rangeEnd);
  }

  // ---------------------------------------------------------------- the Auth service

  @Override
  public CompletableFuture<AuthEnableResponse> authEnable(RequestContext ctx) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthEnable(AuthEnableRequest.getDefaultInstance()),
        AuthEnableResponse.class);
  }

  @Override
  public CompletableFuture<AuthDisableResponse> authDisable(RequestContext ctx) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthDisable(AuthDisableRequest.getDefaultInstance()),
        AuthDisableResponse.class);
  }

  @Override
  public CompletableFuture<AuthenticateResponse> authenticate(RequestContext ctx, AuthenticateRequest r) {
    return proposer.readIndex(ctx).thenCompose(v -> attempt(ctx, r, 1));
  }

  private CompletableFuture<AuthenticateResponse> attempt(RequestContext ctx, AuthenticateRequest r, int attempt) {
    return onBcrypt(() -> checkPassword(r)).thenCompose(checked -> {
      Authenticate a = Authenticate.newBuilder().setName(r.getName()).setSimpleTokenPrefix(tokens.newPrefix()).build();
      return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthenticate(a), Authenticated.class)
          .thenCompose(done -> {
            if (done.revision() == checked) {
              String token = tokens.issue(done.user(), done.revision(), done.registered());
              return CompletableFuture.completedFuture(
                  AuthenticateResponse.newBuilder().setHeader(done.header()).setToken(token).build());
            }
            if (attempt >= AUTHENTICATE_ATTEMPTS_MAX) {
              return CompletableFuture.failedFuture(EtcdError.AUTH_OLD_REVISION.exception());
            }
            LOG.info("revision when password checked became stale; retrying");
            return attempt(ctx, r, attempt + 1);
          });
    });
  }

  private long checkPassword(AuthenticateRequest r) {
    try {
      return store.checkPassword(r.getName(), r.getPassword());
    } catch (EtcdException e) {
      if (e.error() != EtcdError.AUTH_NOT_ENABLED) {
        LOG.warn("invalid authentication was requested: user {}: {}", r.getName(), e.getMessage());
      }
      throw e;
    }
  }

  @Override
  public CompletableFuture<AuthUserAddResponse> userAdd(RequestContext ctx, AuthUserAddRequest r) {
    AuthUserAdd.Builder add = AuthUserAdd.newBuilder().setName(r.getName()).setOptions(r.getOptions());
    if (r.getOptions().getNoPassword()) {
      return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthUserAdd(add), AuthUserAddResponse.class);
    }
    return onBcrypt(() -> passwords.hash(r.getPassword())).thenCompose(h -> proposer.propose(ctx,
        InternalRaftRequest.newBuilder().setAuthUserAdd(add.setHashedPassword(ByteString.copyFrom(h))),
        AuthUserAddResponse.class));
  }

  @Override
  public CompletableFuture<AuthUserChangePasswordResponse> userChangePassword(RequestContext ctx,
      AuthUserChangePasswordRequest r) {
    return onBcrypt(() -> passwords.hash(r.getPassword())).thenCompose(h -> proposer.propose(ctx,
        InternalRaftRequest.newBuilder().setAuthUserChangePassword(AuthUserChangePassword.newBuilder()
            .setName(r.getName()).setHashedPassword(ByteString.copyFrom(h))),
        AuthUserChangePasswordResponse.class));
  }

  @Override
  public CompletableFuture<AuthUserGetResponse> userGet(RequestContext ctx, AuthUserGetRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthUserGet(r), AuthUserGetResponse.class);
  }

  @Override
  public CompletableFuture<AuthUserListResponse> userList(RequestContext ctx) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthUserList(AuthUserListRequest.getDefaultInstance()),
        AuthUserListResponse.class);
  }

  @Override
  public CompletableFuture<AuthUserDeleteResponse> userDelete(RequestContext ctx, AuthUserDeleteRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthUserDelete(r), AuthUserDeleteResponse.class);
  }

  @Override
  public CompletableFuture<AuthUserGrantRoleResponse> userGrantRole(RequestContext ctx, AuthUserGrantRoleRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthUserGrantRole(r), AuthUserGrantRoleResponse.class);
  }

  @Override
  public CompletableFuture<AuthUserRevokeRoleResponse> userRevokeRole(RequestContext ctx,
      AuthUserRevokeRoleRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthUserRevokeRole(r), AuthUserRevokeRoleResponse.class);
  }

  @Override
  public CompletableFuture<AuthRoleAddResponse> roleAdd(RequestContext ctx, AuthRoleAddRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthRoleAdd(r), AuthRoleAddResponse.class);
  }

  @Override
  public CompletableFuture<AuthRoleGetResponse> roleGet(RequestContext ctx, AuthRoleGetRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthRoleGet(r), AuthRoleGetResponse.class);
  }

  @Override
  public CompletableFuture<AuthRoleListResponse> roleList(RequestContext ctx) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthRoleList(AuthRoleListRequest.getDefaultInstance()),
        AuthRoleListResponse.class);
  }

  @Override
  public CompletableFuture<AuthRoleDeleteResponse> roleDelete(RequestContext ctx, AuthRoleDeleteRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthRoleDelete(r), AuthRoleDeleteResponse.class);
  }

  @Override
  public CompletableFuture<AuthRoleGrantPermissionResponse> roleGrantPermission(RequestContext ctx,
      AuthRoleGrantPermissionRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthRoleGrantPermission(r),
        AuthRoleGrantPermissionResponse.class);
  }

  @Override
  public CompletableFuture<AuthRoleRevokePermissionResponse> roleRevokePermission(RequestContext ctx,
      AuthRoleRevokePermissionRequest r) {
    return proposer.propose(ctx, InternalRaftRequest.newBuilder().setAuthRoleRevokePermission(r),
        AuthRoleRevokePermissionResponse.class);
  }

  @Override
  public void close() {
    bcrypt.shutdownNow();
  }
}
