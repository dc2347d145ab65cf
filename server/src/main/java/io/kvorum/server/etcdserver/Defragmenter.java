package io.kvorum.server.etcdserver;

import io.kvorum.server.storage.Backend;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's {@code Defragment} on this member: a full manual compaction of the backend
 * ({@link Backend#defragment}) on a thread of its own, while reads and writes go on (etcd stops
 * the world to copy its bbolt file). One runs at a time; a request that comes while one runs is
 * served by the next one, which every request arriving meanwhile shares, so at most two are ever
 * pending and each request's answer comes after a compaction that started after it.
 */
final class Defragmenter {
  private static final Logger LOG = LoggerFactory.getLogger(Defragmenter.class);

  private final Backend backend;
  private final Executor executor;
  private CompletableFuture<Void> running;
  private CompletableFuture<Void> next;

  Defragmenter(Backend backend, Executor executor) {
    this.backend = backend;
    this.executor = executor;
  }

  synchronized CompletableFuture<Void> defragment() {
    if (running == null) {
      running = new CompletableFuture<>();
      run(running);
      return running;
    }
    if (next == null) {
      next = new CompletableFuture<>();
    }
    return next;
  }

  private void run(CompletableFuture<Void> done) {
    try {
      executor.execute(() -> {
        LOG.info("starting defragment (backend {} bytes)", backend.sizeBytes());
        try {
          backend.defragment();
          LOG.info("finished defragment (backend {} bytes)", backend.sizeBytes());
          done.complete(null);
        } catch (RuntimeException e) {
          LOG.warn("failed to defragment: {}", e.toString());
          done.completeExceptionally(e);
        }
        finished();
      });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
      finished();
    }
  }

  private void finished() {
    CompletableFuture<Void> start;
    synchronized (this) {
      running = next;
      next = null;
      start = running;
    }
    if (start != null) {
      run(start);
    }
  }
}
