package io.kvorum.server.compactor;

import io.kvorum.server.clock.Clock;
import io.kvorum.server.config.AutoCompaction;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's {@code v3compactor.Compactor}: runs on every member from start, on the member's clock, and
 * compacts only while the member leads (etcd pauses it on followers); a compaction goes through the
 * log like a client's. {@link #start} picks etcd's periodic or revision compactor.
 */
public interface AutoCompactor extends AutoCloseable {
  /** What a compactor compacts. */
  interface Target {
    /** The store's current revision (etcd's {@code RevGetter}). */
    long revision();

    /** Whether this member leads: a follower's compactor waits. */
    boolean leading();

    /**
     * Proposes a compaction at {@code revision} and completes once it is applied, or fails; a
     * revision compacted already counts as done, as in etcd.
     */
    CompletableFuture<Void> compact(long revision);
  }

  /** The compactor {@code config} asks for, started; one that does nothing when auto-compaction is off. */
  static AutoCompactor start(AutoCompaction config, Clock clock, Target target) {
    if (!config.enabled()) {
      return () -> { };
    }
    return switch (config.mode()) {
      case PERIODIC -> new PeriodicCompactor(config.period(), clock, target).start();
      case REVISION -> new RevisionCompactor(config.revisions(), clock, target).start();
    };
  }

  /** Stops; a compaction on its way through the log still completes. */
  @Override
  void close();
}
