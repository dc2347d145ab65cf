package io.kvorum.server.concurrency;

import io.kvorum.proto.v3lockpb.LockRequest;
import io.kvorum.proto.v3lockpb.LockResponse;
import io.kvorum.proto.v3lockpb.UnlockRequest;
import io.kvorum.proto.v3lockpb.UnlockResponse;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.KvServer;
import io.kvorum.server.etcdserver.LeaseServer;
import io.kvorum.server.watch.WatchHub;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lock service ({@code etcdserver/api/v3lock}): a lock {@code name} is held by the oldest
 * key under {@code name/}. Calls run etcd's client-side mutex on the member's own services as the
 * caller; futures fail with {@link io.kvorum.server.errors.EtcdException}s, which etcd sends
 * unmapped (UNKNOWN, with their text).
 */
public final class Locks {
  private final Services services;

  public Locks(KvServer kv, LeaseServer leases, AuthServer auth, WatchHub hub) {
    this.services = new Services(kv, leases, auth, hub);
  }

  /**
   * Acquires lock {@code name} for the lease (a new one of {@link Elections#SESSION_TTL_SECONDS}
   * for lease 0) and completes once held (see {@link Acquisition}); cancelling the future stops
   * waiting and deletes the waiter's key.
   */
  public CompletableFuture<LockResponse> lock(Caller caller, LockRequest r) {
    return new Acquisition(services.as(caller), services.background(caller), r).start(r.getLease());
  }

  /** Deletes {@code key} (whoever holds it), as etcd's Unlock does. */
  public CompletableFuture<UnlockResponse> unlock(Caller caller, UnlockRequest r) {
    return services.as(caller).delete(r.getKey())
        .thenApply(d -> UnlockResponse.newBuilder().setHeader(d.getHeader()).build());
  }
}
