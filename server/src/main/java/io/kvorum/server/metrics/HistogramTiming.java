package io.kvorum.server.metrics;

import io.kvorum.server.clock.Clock;
import io.kvorum.server.clock.Timing;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;

/** A {@link Timing} that records into a seconds histogram, on the member's clock. */
final class HistogramTiming implements Timing {
  private static final double NANOS_PER_SECOND = 1e9;

  private final Clock clock;
  private final DistributionDataPoint histogram;

  HistogramTiming(Clock clock, DistributionDataPoint histogram) {
    this.clock = clock;
    this.histogram = histogram;
  }

  @Override
  public long start() {
    return clock.nanos();
  }

  @Override
  public void stop(long start) {
    observeNanos(clock.nanos() - start);
  }

  void observeNanos(long nanos) {
    histogram.observe(nanos / NANOS_PER_SECOND);
  }
}
