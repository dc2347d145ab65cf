package io.kvorum.server.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.StreamObserver;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.Credentials;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Finds what a call presents to say who it is — the {@code token} metadata (or {@code
 * authorization}, which etcd also reads), the Common Name of a verified client certificate, and
 * whether the JSON gateway relayed it — and keeps it in the call's context; {@link #answer} then
 * resolves it to a user before the member serves the call. Only the calls etcd identifies do so:
 * those that go through the log, ranges, watches, hashes, defragment, snapshot and membership
 * changes; the others (Status, MemberList, lease keep-alives and time-to-live) ignore a bad token
 * as etcd does.
 */
final class CallerCredentials implements ServerInterceptor {
  static final Metadata.Key<String> TOKEN = Metadata.Key.of("token", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> GATEWAY = Metadata.Key.of("grpcgateway-accept", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<Credentials> KEY = Context.key("kvorum-credentials");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String token = headers.get(TOKEN);
    if (token == null) {
      token = headers.get(AUTHORIZATION);
    }
    String cn = CommonNames.of(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (token == null && cn == null) {
      return next.startCall(call, headers);
    }
    Credentials c = new Credentials(token, cn, headers.containsKey(GATEWAY));
    return Contexts.interceptCall(Context.current().withValue(KEY, c), call, headers, next);
  }

  /** The current call's credentials. */
  static Credentials current() {
    Credentials c = KEY.get();
    return c == null ? Credentials.NONE : c;
  }

  /** Serves a call etcd identifies: resolves its credentials into {@code ctx}, then runs {@code call}. */
  static <T> void answer(StreamObserver<T> out, AuthServer auth, RequestContext ctx,
      Function<RequestContext, CompletableFuture<T>> call) {
    KvService.answer(out, identified(auth, ctx, call));
  }

  /**
   * {@code call} as the current call's credentials name; without any (the common case) it runs at
   * once with {@code ctx}, which is what identifying nothing gives.
   */
  private static <T> Supplier<CompletableFuture<T>> identified(AuthServer auth, RequestContext ctx,
      Function<RequestContext, CompletableFuture<T>> call) {
    Credentials c = current();
    if (c == Credentials.NONE) {
      return () -> call.apply(ctx);
    }
    return () -> auth.identify(ctx, c).thenCompose(call);
  }

  /**
   * As {@link #answer}, for etcd 3.4's Maintenance calls that check admin permission (Hash, HashKV,
   * Defragment): their auth failures go out as the auth store's own errors, unmapped (UNKNOWN).
   */
  static <T> void answerAuthUnmapped(StreamObserver<T> out, AuthServer auth, RequestContext ctx,
      Function<RequestContext, CompletableFuture<T>> call) {
    Supplier<CompletableFuture<T>> s = identified(auth, ctx, call);
    KvService.answer(out, () -> callAuthUnmapped(s));
  }

  /** {@code call} as {@link #answerAuthUnmapped} runs it, for a caller that streams the answer itself. */
  static <T> CompletableFuture<T> callAuthUnmapped(AuthServer auth, RequestContext ctx,
      Function<RequestContext, CompletableFuture<T>> call) {
    return callAuthUnmapped(identified(auth, ctx, call));
  }

  private static <T> CompletableFuture<T> callAuthUnmapped(Supplier<CompletableFuture<T>> s) {
    CompletableFuture<T> f;
    try {
      f = s.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    return f.exceptionallyCompose(err -> CompletableFuture.failedFuture(unmapped(err)));
  }

  private static Throwable unmapped(Throwable err) {
    Throwable t = err;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof EtcdException e ? e.error().unmappedAuth().exception() : err;
  }
}
