package io.kvorum.server.etcdserver;

import io.kvorum.server.apply.ApplierChain;
import io.kvorum.server.errors.EtcdException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Clients waiting for their proposals to be applied, by request id. Only the member that proposed
 * registers; the apply thread completes the waiter with the request's typed result (or its error).
 * A waiter that times out is failed and removed by the proposer's timer, so the map stays bounded
 * by requests in flight.
 */
final class Waiters implements ApplierChain.Results {
  /** One waiting request: the type its result must have, and the client's future. */
  private record Waiter<T>(Class<T> type, CompletableFuture<T> future) {
    void complete(Object result) {
      if (!type.isInstance(result)) {
        // A request type answered with another's result: a defect, not the client's fault.
        future.completeExceptionally(new IllegalStateException("applied result " + result.getClass().getName()
            + " is not a " + type.getName()));
        return;
      }
      future.complete(type.cast(result));
    }
  }

  private final ConcurrentHashMap<Long, Waiter<?>> waiting = new ConcurrentHashMap<>();

  <T> CompletableFuture<T> register(long id, Class<T> type) {
    CompletableFuture<T> f = new CompletableFuture<>();
    waiting.put(id, new Waiter<>(type, f));
    return f;
  }

  @Override
  public void complete(long id, Object result) {
    Waiter<?> w = waiting.remove(id);
    if (w != null) {
      w.complete(result);
    }
  }

  @Override
  public void fail(long id, EtcdException error) {
    failWith(id, error);
  }

  /** Fails waiter {@code id} with {@code t}; false if it was not waiting (any more). */
  boolean failWith(long id, Throwable t) {
    Waiter<?> w = waiting.remove(id);
    if (w != null) {
      w.future().completeExceptionally(t);
      return true;
    }
    return false;
  }

  void failAll(Throwable t) {
    for (Long id : waiting.keySet()) {
      failWith(id, t);
    }
  }

  int size() {
    return waiting.size();
  }
}
