package io.kvorum.server.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;
import java.util.function.Supplier;

/**
 * Registers metric families on one registry the way etcd declares them: a name, etcd's help text,
 * and for histograms etcd's exponential buckets. Gauges and most counters read their value at
 * scrape time from the member ({@link MemberGauges}) or from a counter kept beside the family.
 */
final class Families {
  private final PrometheusRegistry registry;
  private final Supplier<MemberGauges> member;

  Families(PrometheusRegistry registry, Supplier<MemberGauges> member) {
    this.registry = registry;
    this.member = member;
  }

  PrometheusRegistry registry() {
    return registry;
  }

  /** A gauge read from the member; absent until a member is bound or while reading fails. */
  void memberGauge(String name, String help, ToDoubleFunction<MemberGauges> read) {
    GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
      MemberGauges m = member.get();
      Double v = m == null ? null : readSafely(m, read);
      if (v != null) {
        cb.call(v);
      }
    }).register(registry);
  }

  /** A counter read from the member at scrape time. */
  void memberCounter(String name, String help, ToDoubleFunction<MemberGauges> read) {
    CounterWithCallback.builder().name(name).help(help).callback(cb -> {
      MemberGauges m = member.get();
      Double v = m == null ? null : readSafely(m, read);
      if (v != null) {
        cb.call(v);
      }
    }).register(registry);
  }

  /** A gauge read from a value kept here. */
  void gauge(String name, String help, DoubleSupplier read) {
    GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(read.getAsDouble())).register(registry);
  }

  /** A counter read from a value kept here. */
  void counter(String name, String help, DoubleSupplier read) {
    CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(read.getAsDouble())).register(registry);
  }

  /** A gauge of 1 with one label, whose value the member decides (etcd's version and id gauges). */
  void labelGauge(String name, String help, String label, Supplier<String> value) {
    GaugeWithCallback.builder().name(name).help(help).labelNames(label).callback(cb -> {
      String v = value.get();
      if (v != null) {
        cb.call(1, v);
      }
    }).register(registry);
  }

  /** A labelled counter whose children the caller keeps. */
  Counter labelledCounter(String name, String help, String... labels) {
    return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars().register(registry);
  }

  /**
   * A counter etcd names without {@code _total}: the client library appends the suffix to every
   * counter it writes, so this one is exposed untyped under etcd's exact name.
   */
  void untypedCounter(String name, String help, DoubleSupplier read) {
    registry.register(() -> UnknownSnapshot.builder().name(name).help(help)
        .dataPoint(UnknownSnapshot.UnknownDataPointSnapshot.builder().value(read.getAsDouble()).build()).build());
  }

  /** A histogram with etcd's {@code prometheus.ExponentialBuckets(start, factor, count)}. */
  /** A histogram with explicit bucket bounds. */
  Histogram histogramWithBounds(String name, String help, double[] bounds, String... labels) {
    return Histogram.builder().name(name).help(help).classicOnly().classicUpperBounds(bounds)
        .labelNames(labels).withoutExemplars().register(registry);
  }

  Histogram histogram(String name, String help, double start, double factor, int count, String... labels) {
    return Histogram.builder().name(name).help(help).classicOnly().classicExponentialUpperBounds(start, factor, count)
        .labelNames(labels).withoutExemplars().register(registry);
  }

  private static Double readSafely(MemberGauges m, ToDoubleFunction<MemberGauges> read) {
    try {
      return read.applyAsDouble(m);
    } catch (RuntimeException e) {
      // The member is stopping (its backend closed, say): the sample is left out of this scrape.
      return null;
    }
  }
}
