package io.kvorum.server.compactor;

import io.kvorum.server.clock.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd 3.4's {@code v3compactor.Revision}: keeps the last {@code retention} revisions. Every five
 * minutes the leader compacts at the current revision minus the retention, unless that is not
 * positive or is where it compacted last; a failed compaction is tried again five minutes later.
 */
final class RevisionCompactor implements AutoCompactor {
  private static final Logger LOG = LoggerFactory.getLogger(RevisionCompactor.class);
  /** etcd's {@code revInterval}. */
  static final Duration CHECK_INTERVAL = Duration.ofMinutes(5);

  private final long retention;
  private final Clock clock;
  private final Target target;
  /** The revision compacted at last; 0 before the first. */
  private long previous;
  private Clock.Timer timer;
  private boolean closed;

  RevisionCompactor(long retention, Clock clock, Target target) {
    this.retention = retention;
    this.clock = clock;
    this.target = target;
  }

  synchronized RevisionCompactor start() {
    timer = clock.schedule(CHECK_INTERVAL, this::wake);
    return this;
  }

  private synchronized void wake() {
    if (closed) {
      return;
    }
    long rev = target.revision() - retention;
    if (!target.leading() || rev <= 0 || rev == previous) {
      timer = clock.schedule(CHECK_INTERVAL, this::wake);
      return;
    }
    LOG.info("starting auto revision compaction (revision {}, revision-compaction-retention {})", rev, retention);
    long started = clock.nanos();
    target.compact(rev).whenComplete((v, err) -> compacted(rev, started, err));
  }

  private synchronized void compacted(long rev, long startedNanos, Throwable err) {
    if (closed) {
      return;
    }
    if (err == null) {
      previous = rev;
      LOG.info("completed auto revision compaction (revision {}, revision-compaction-retention {}, took {} ms)", rev,
          retention, TimeUnit.NANOSECONDS.toMillis(clock.nanos() - startedNanos));
    } else {
      LOG.warn("failed auto revision compaction (revision {}, revision-compaction-retention {}, retry-interval {}): {}",
          rev, retention, CHECK_INTERVAL, err.toString());
    }
    timer = clock.schedule(CHECK_INTERVAL, this::wake);
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.cancel();
    }
  }
}
