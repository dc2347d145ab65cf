package io.kvorum.server.etcdserver;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member stopping on its own — removed from the cluster, or a fatal error — and telling its
 * embedder why: the close runs on its own thread, since the cause is often a thread the close
 * joins. A cause met while the member is still starting (a peer answers that it was removed
 * before it even listens) closes it once the start is over, not under it.
 */
final class Termination {
  private static final Logger LOG = LoggerFactory.getLogger(Termination.class);

  private final String memberHex;
  private final Runnable stopProposals;
  private final AutoCloseable close;
  private final CompletableFuture<String> terminated = new CompletableFuture<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final CompletableFuture<Void> startOver = new CompletableFuture<>();

  Termination(String memberHex, Runnable stopProposals, AutoCloseable close) {
    this.memberHex = memberHex;
    this.stopProposals = stopProposals;
    this.close = close;
  }

  void removedFromCluster() {
    LOG.warn(Bootstrap.REMOVED);
    terminate(Bootstrap.REMOVED);
  }

  void fatal(Throwable t) {
    LOG.error("member {} stops: {}", memberHex, t.toString(), t);
    stopProposals.run();
    terminate("fatal error: " + t);
  }

  private void terminate(String reason) {
    if (!started.compareAndSet(false, true)) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        startOver.join();
        close.close();
      } catch (Exception ex) {
        LOG.warn("error while stopping: {}", ex.toString());
      }
      terminated.complete(reason);
    }, "kvorum-terminate");
    t.setDaemon(true);
    t.start();
  }

  /** The member's start returned or failed: a termination asked for meanwhile may close it now. */
  void startOver() {
    startOver.complete(null);
  }

  /** Completes with the reason when the member stopped on its own. */
  CompletableFuture<String> terminated() {
    return terminated;
  }
}
