package io.kvorum.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.etcdserver.MemberView;

/**
 * etcd's {@code WithRequireLeader}: a call whose metadata has {@code hasleader: true} fails with
 * {@code etcdserver: no leader} when this member knows no leader, and the flag is kept in the
 * call's context so long-lived streams can be cut when the leader goes away.
 */
final class RequireLeader implements ServerInterceptor {
  static final Metadata.Key<String> HAS_LEADER = Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<Boolean> REQUIRED = Context.key("kvorum-require-leader");

  private final MemberView server;

  RequireLeader(MemberView server) {
    this.server = server;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!"true".equals(headers.get(HAS_LEADER))) {
      return next.startCall(call, headers);
    }
    if (server.leader() == 0) {
      call.close(GrpcErrors.status(EtcdError.NO_LEADER), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return Contexts.interceptCall(Context.current().withValue(REQUIRED, Boolean.TRUE), call, headers, next);
  }

  static boolean required() {
    return Boolean.TRUE.equals(REQUIRED.get());
  }
}
