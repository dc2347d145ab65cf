package io.kvorum.server.etcdserver;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clients waiting for their proposals to be applied, by request id. Only the member that proposed
 * registers; the apply thread completes the waiter with the request's result (or its error). A
 * waiter that times out is removed by its client so the map stays bounded by requests in flight.
 */
final class Waiters {
  private final ConcurrentHashMap<Long, CompletableFuture<Object>> waiting = new ConcurrentHashMap<>();

  CompletableFuture<Object> register(long id) {
    CompletableFuture<Object> f = new CompletableFuture<>();
    waiting.put(id, f);
    return f;
  }

  void cancel(long id) {
    waiting.remove(id);
  }

  boolean isWaiting(long id) {
    return waiting.containsKey(id);
  }

  void complete(long id, Object result) {
    CompletableFuture<Object> f = waiting.remove(id);
    if (f != null) {
      f.complete(result);
    }
  }

  void fail(long id, Throwable t) {
    CompletableFuture<Object> f = waiting.remove(id);
    if (f != null) {
      f.completeExceptionally(t);
    }
  }

  void failAll(Throwable t) {
    for (Long id : waiting.keySet()) {
      fail(id, t);
    }
  }

  int size() {
    return waiting.size();
  }
}
