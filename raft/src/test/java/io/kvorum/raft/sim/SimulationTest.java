package io.kvorum.raft.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Runs many seeded random simulations ({@link Simulation}) and fails with the first failure's
 * seed, step and trace. Knobs (system properties): {@code sim.seeds} (2000), {@code sim.steps}
 * (2000), {@code sim.budgetSeconds} (280: stop starting seeds after this), {@code sim.firstSeed}
 * (1), and {@code sim.seed} to replay one seed alone. When replaying, {@code sim.traceEvents}
 * (200) lengthens the trace a failure prints and {@code sim.livenessElectionTimeouts} (50) moves
 * the liveness bound.
 *
 * <p>Seeds run on one thread per core; each seed is single-threaded and deterministic, so the
 * parallelism changes only which seeds finish within the budget, never a seed's outcome. Fewer than
 * a tenth of the requested seeds finishing means the harness (or raft) got too slow to trust the
 * run, and is a failure too.
 */
class SimulationTest {
  /** Stop collecting after this many failing seeds: the first ones are what a reader needs. */
  private static final int FAILURES_MAX = 10;

  @Test
  void simulation_randomSeedsKeepRaftSafeAndLive() throws Exception {
    int steps = Integer.getInteger("sim.steps", 2000);
    String one = System.getProperty("sim.seed", "").trim();
    if (!one.isEmpty()) {
      long seed = Long.parseLong(one);
      long t0 = System.nanoTime();
      Simulation.Stats s = Simulation.run(seed, steps);
      System.out.printf("simulation: seed %d x %d steps, 0 failures, %.1f s (%s)%n", seed, steps,
          (System.nanoTime() - t0) / 1e9, s);
      return;
    }
    long seeds = Long.getLong("sim.seeds", 2000);
    long firstSeed = Long.getLong("sim.firstSeed", 1);
    long budgetNanos = TimeUnit.SECONDS.toNanos(Long.getLong("sim.budgetSeconds", 280));

    long t0 = System.nanoTime();
    AtomicLong next = new AtomicLong(firstSeed);
    AtomicLong ran = new AtomicLong();
    AtomicLong committed = new AtomicLong();
    AtomicLong leaders = new AtomicLong();
    AtomicLong crashes = new AtomicLong();
    AtomicLong confChanges = new AtomicLong();
    AtomicLong snapshots = new AtomicLong();
    AtomicLong reads = new AtomicLong();
    AtomicLong leaseReadsBehind = new AtomicLong();
    ConcurrentLinkedQueue<AssertionError> failures = new ConcurrentLinkedQueue<>();
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(pool.submit(() -> {
          while (failures.size() < FAILURES_MAX && System.nanoTime() - t0 < budgetNanos) {
            long seed = next.getAndIncrement();
            if (seed >= firstSeed + seeds) {
              return;
            }
            try {
              Simulation.Stats s = Simulation.run(seed, steps);
              committed.addAndGet(s.committed());
              leaders.addAndGet(s.leaders());
              crashes.addAndGet(s.crashes());
              confChanges.addAndGet(s.confChanges());
              snapshots.addAndGet(s.snapshotsInstalled());
              reads.addAndGet(s.readsAnswered());
              leaseReadsBehind.addAndGet(s.leaseReadsBehind());
            } catch (AssertionError e) {
              failures.add(e);
            }
            ran.incrementAndGet();
          }
        }));
      }
      for (Future<?> w : workers) {
        w.get();
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("simulation: %d seeds x %d steps, %d failures, %.1f s (of %d requested from seed %d; %d threads)%n",
        ran.get(), steps, failures.size(), seconds, seeds, firstSeed, threads);
    System.out.printf("simulation: totals: committed index %d, leaders %d, crashes %d, conf changes applied %d,"
        + " snapshots installed %d, reads answered %d, lease reads behind %d%n", committed.get(), leaders.get(),
        crashes.get(), confChanges.get(), snapshots.get(), reads.get(), leaseReadsBehind.get());

    if (!failures.isEmpty()) {
      StringBuilder seedsLine = new StringBuilder();
      for (AssertionError f : failures) {
        seedsLine.append("\n  ").append(f.getMessage().lines().findFirst().orElse(""));
      }
      AssertionError first = failures.stream()
          .min((a, b) -> Long.compare(seedOf(a), seedOf(b)))
          .orElseThrow();
      throw new AssertionError(failures.size() + " failing seed(s) (replay one with -Dsim.seed=N):" + seedsLine
          + "\n\nfirst failure in full:\n" + first.getMessage(), first);
    }
    assertThat(ran.get())
        .as("seeds that finished within %d s budget; fewer than a tenth of %d means the harness is too slow",
            TimeUnit.NANOSECONDS.toSeconds(budgetNanos), seeds)
        .isGreaterThanOrEqualTo(Math.max(1, seeds / 10));
  }

  private static long seedOf(AssertionError e) {
    String m = String.valueOf(e.getMessage());
    if (!m.startsWith("seed=")) {
      return Long.MAX_VALUE;
    }
    int end = m.indexOf(' ');
    return Long.parseLong(m.substring(5, end < 0 ? m.length() : end));
  }
}
