package io.kvorum.server.compactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.config.AutoCompaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * etcd 3.4's compactors on a fake clock, with etcd's own test cases ({@code periodic_test.go},
 * {@code revision_test.go}): a store whose revision goes up by one each time it is read.
 */
class AutoCompactorTest {
  private final FakeClock clock = new FakeClock();

  /** A store whose revision grows by one per read, that records compactions and fails them on demand. */
  private static final class Store implements AutoCompactor.Target {
    long rev;
    boolean leading = true;
    boolean failing;
    final List<Long> compacted = new ArrayList<>();

    @Override
    public synchronized long revision() {
      return ++rev;
    }

    @Override
    public boolean leading() {
      return leading;
    }

    @Override
    public synchronized CompletableFuture<Void> compact(long revision) {
      compacted.add(revision);
      return failing ? CompletableFuture.failedFuture(new IllegalStateException("no leader"))
          : CompletableFuture.completedFuture(null);
    }
  }

  private PeriodicCompactor periodic(Duration period, Store store) {
    return new PeriodicCompactor(period, clock, store).start();
  }

  @Test
  void periodic_hourly_firstAfterTheRetention_thenEveryHour_atTheRevisionOfOneRetentionAgo() {
    Store store = new Store();
    try (PeriodicCompactor c = periodic(Duration.ofHours(2), store)) {
      assertThat(c.retryInterval()).isEqualTo(Duration.ofMinutes(6));
      assertThat(c.samplesMax()).isEqualTo(21);
      for (int i = 0; i < 19; i++) {
        clock.advance(c.retryInterval());
      }
      assertThat(store.compacted).isEmpty();
      clock.advance(c.retryInterval());
      assertThat(store.compacted).containsExactly(1L);
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < PeriodicCompactor.SAMPLES_PER_INTERVAL; j++) {
          clock.advance(c.retryInterval());
        }
        assertThat(store.compacted).hasSize(i + 2).last().isEqualTo((i + 1) * 10L);
      }
    }
  }

  @Test
  void periodic_minutes_compactsEveryPeriod_atTheRevisionOfOnePeriodAgo() {
    Store store = new Store();
    try (PeriodicCompactor c = periodic(Duration.ofMinutes(5), store)) {
      assertThat(c.retryInterval()).isEqualTo(Duration.ofSeconds(30));
      for (int i = 0; i < 10; i++) {
        clock.advance(c.retryInterval());
      }
      assertThat(store.compacted).containsExactly(1L);
      for (int i = 0; i < 5; i++) {
        for (int j = 0; j < PeriodicCompactor.SAMPLES_PER_INTERVAL; j++) {
          clock.advance(c.retryInterval());
        }
        assertThat(store.compacted).hasSize(i + 2).last().isEqualTo((i + 1) * 10L);
      }
    }
  }

  @Test
  void periodic_onAFollower_onlySamples_andCompactsOnceItLeads() {
    Store store = new Store();
    store.leading = false;
    try (PeriodicCompactor c = periodic(Duration.ofMinutes(5), store)) {
      for (int i = 0; i < 30; i++) {
        clock.advance(c.retryInterval());
      }
      assertThat(store.compacted).isEmpty();
      store.leading = true;
      clock.advance(c.retryInterval());
      // The oldest of the last 11 samples (one period plus one): revision 31 - 10.
      assertThat(store.compacted).containsExactly(21L);
    }
  }

  @Test
  void periodic_failedCompaction_isTriedAgainAtTheNextSample() {
    Store store = new Store();
    store.failing = true;
    try (PeriodicCompactor c = periodic(Duration.ofMinutes(5), store)) {
      for (int i = 0; i < 10; i++) {
        clock.advance(c.retryInterval());
      }
      assertThat(store.compacted).containsExactly(1L);
      store.failing = false;
      clock.advance(c.retryInterval());
      assertThat(store.compacted).containsExactly(1L, 1L);
    }
  }

  @Test
  void revision_everyFiveMinutes_compactsAtTheRevisionMinusTheRetention_unlessNothingMoved() {
    Store store = new Store();
    store.rev = 100;
    RevisionCompactor c = new RevisionCompactor(10, clock, store).start();
    try {
      clock.advance(Duration.ofMinutes(4));
      assertThat(store.compacted).isEmpty();
      clock.advance(Duration.ofMinutes(1));
      assertThat(store.compacted).containsExactly(91L);
      // Nothing written meanwhile: the same revision is not compacted again.
      store.rev = 100;
      clock.advance(RevisionCompactor.CHECK_INTERVAL);
      assertThat(store.compacted).containsExactly(91L);
      store.rev = 200;
      clock.advance(RevisionCompactor.CHECK_INTERVAL);
      assertThat(store.compacted).containsExactly(91L, 191L);
      store.leading = false;
      clock.advance(RevisionCompactor.CHECK_INTERVAL);
      assertThat(store.compacted).hasSize(2);
    } finally {
      c.close();
    }
  }

  @Test
  void revision_retentionAboveTheRevision_compactsNothing() {
    Store store = new Store();
    RevisionCompactor c = new RevisionCompactor(1000, clock, store).start();
    clock.advance(Duration.ofHours(1));
    assertThat(store.compacted).isEmpty();
    c.close();
  }

  @Test
  void start_fromTheFlags_picksTheCompactor_orNoneForARetentionOfZero() {
    Store store = new Store();
    AutoCompactor off = AutoCompactor.start(AutoCompaction.parse("periodic", "0"), clock, store);
    clock.advance(Duration.ofDays(1));
    assertThat(store.compacted).isEmpty();
    off.close();
    store.rev = 100;
    AutoCompactor c = AutoCompactor.start(AutoCompaction.parse("revision", "5"), clock, store);
    clock.advance(Duration.ofMinutes(5));
    assertThat(store.compacted).containsExactly(96L);
    c.close();
    assertThat(clock.pending()).as("closed compactors leave no timer").isZero();
  }
}
