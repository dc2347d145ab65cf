package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import io.kvorum.server.etcdserver.Credentials;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The member's own KV, lease and watch services, called in process for one client call, as etcd's
 * election and lock services call them through {@code v3client}. Each call carries the caller's
 * deadline and its credentials, identified afresh as etcd reads the token from the call's context
 * every time (so a wait that outlives an auth change goes on at the store's new revision).
 *
 * <p>Watches are not checked against the caller's permissions: every watch here follows a range
 * over the same prefix (or the watched key itself) that was checked, as in etcd, whose in-process
 * watches all share one stream.
 */
final class MemberClient {
  private final Services services;
  private final RequestContext context;
  private final Credentials credentials;

  MemberClient(Services services, RequestContext context, Credentials credentials) {
    this.services = services;
    this.context = context;
    this.credentials = credentials;
  }

  /** {@code call} as the caller: identified first, failures (thrown or not) in the future. */
  private <T> CompletableFuture<T> asCaller(Function<RequestContext, CompletableFuture<T>> call) {
    CompletableFuture<RequestContext> who;
    try {
      who = credentials == Credentials.NONE ? CompletableFuture.completedFuture(context)
          : services.auth().identify(context, credentials);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return who.thenCompose(ctx -> {
      try {
        return call.apply(ctx);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    });
  }

  CompletableFuture<RangeResponse> range(RangeRequest r) {
    return asCaller(ctx -> services.kv().range(ctx, r));
  }

  CompletableFuture<TxnResponse> txn(TxnRequest r) {
    return asCaller(ctx -> services.kv().txn(ctx, r));
  }

  CompletableFuture<DeleteRangeResponse> delete(ByteString key) {
    return asCaller(ctx -> services.kv().deleteRange(ctx, DeleteRangeRequest.newBuilder().setKey(key).build()));
  }

  /** A new lease of {@code ttlSeconds}, its id chosen by the member. */
  CompletableFuture<Long> grant(long ttlSeconds) {
    return asCaller(ctx -> services.leases().leaseGrant(ctx, LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).build()))
        .thenApply(LeaseGrantResponse::getID);
  }

  /** Watches {@code key} alone, or {@code [key, end)}, from revision {@code from}; see {@link KeyWatch}. */
  KeyWatch watch(ByteString key, ByteString end, long from, Consumer<KeyWatch> sendable) {
    return KeyWatch.open(services.hub(), key, end, from, sendable);
  }
}
