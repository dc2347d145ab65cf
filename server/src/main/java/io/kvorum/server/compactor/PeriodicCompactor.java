package io.kvorum.server.compactor;

import io.kvorum.server.clock.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd 3.4's {@code v3compactor.Periodic}: keeps {@code period} of history. It samples the store's
 * revision every tenth of the period (of an hour, for a period over an hour), keeping the samples
 * of the last period; once a period has passed since it started (or since its last successful
 * compaction, after which that wait is the period capped at an hour) it compacts at the oldest
 * sample, the revision of about one period ago. A failed compaction is tried again at the next
 * sample. On a follower it only samples.
 *
 * <p>For example with {@code --auto-compaction-retention 2}: samples every 6 minutes, the first
 * compaction after 2 hours at the revision of 2 hours before, then one every hour, each at the
 * revision of 2 hours before.
 */
final class PeriodicCompactor implements AutoCompactor {
  private static final Logger LOG = LoggerFactory.getLogger(PeriodicCompactor.class);
  /** etcd's {@code retryDivisor}: samples per period (per hour, for longer periods). */
  static final int SAMPLES_PER_INTERVAL = 10;
  private static final Duration INTERVAL_MAX = Duration.ofHours(1);

  private final Duration period;
  private final Clock clock;
  private final Target target;
  /** How long to wait for a compaction after the first one: the period, at most an hour. */
  private final Duration compactInterval;
  /** How often the revision is sampled, and a failed compaction tried again. */
  private final Duration retryInterval;
  /** How many samples are kept: the oldest is the revision of one period ago. */
  private final int samplesMax;
  private final ArrayDeque<Long> samples = new ArrayDeque<>();
  private long lastSuccessNanos;
  private Duration baseInterval;
  private Clock.Timer timer;
  private boolean closed;

  PeriodicCompactor(Duration period, Clock clock, Target target) {
    this.period = period;
    this.clock = clock;
    this.target = target;
    this.compactInterval = period.compareTo(INTERVAL_MAX) > 0 ? INTERVAL_MAX : period;
    this.retryInterval = compactInterval.dividedBy(SAMPLES_PER_INTERVAL);
    this.samplesMax = (int) Math.min(Integer.MAX_VALUE, period.toNanos() / Math.max(1, retryInterval.toNanos()) + 1);
  }

  /** How often the revision is sampled; for tests. */
  Duration retryInterval() {
    return retryInterval;
  }

  /** How many samples are kept; for tests. */
  int samplesMax() {
    return samplesMax;
  }

  synchronized PeriodicCompactor start() {
    lastSuccessNanos = clock.nanos();
    baseInterval = period;
    sampleAndWait();
    return this;
  }

  /** The top of etcd's loop: record the revision, then wait one retry interval. */
  private void sampleAndWait() {
    samples.addLast(target.revision());
    if (samples.size() > samplesMax) {
      samples.removeFirst();
    }
    timer = clock.schedule(retryInterval, this::wake);
  }

  private synchronized void wake() {
    if (closed) {
      return;
    }
    if (!target.leading() || clock.nanos() - lastSuccessNanos < baseInterval.toNanos()) {
      sampleAndWait();
      return;
    }
    baseInterval = compactInterval;
    long rev = samples.getFirst();
    LOG.info("starting auto periodic compaction (revision {}, compact-period {})", rev, period);
    long started = clock.nanos();
    target.compact(rev).whenComplete((v, err) -> compacted(rev, started, err));
  }

  private synchronized void compacted(long rev, long startedNanos, Throwable err) {
    if (closed) {
      return;
    }
    if (err == null) {
      LOG.info("completed auto periodic compaction (revision {}, compact-period {}, took {} ms)", rev, period,
          TimeUnit.NANOSECONDS.toMillis(clock.nanos() - startedNanos));
      lastSuccessNanos = clock.nanos();
    } else {
      LOG.warn("failed auto periodic compaction (revision {}, compact-period {}, retry-interval {}): {}", rev, period,
          retryInterval, err.toString());
    }
    sampleAndWait();
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.cancel();
    }
  }
}
