package io.kvorum.tests.robustness.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Histories of a simulated correct etcd ({@link SimulatedHistory}) pass every check; the same
 * histories with one mutation that no correct etcd could produce fail the linearizability check.
 * Only mutations that are detectable in every history are generated:
 *
 * <ul>
 *   <li>an acknowledged read's value replaced by one no operation ever wrote: no order of the
 *       writes puts that value in the register;
 *   <li>an acknowledged put W "lost": every acknowledged read of its value instead sees the value
 *       of W0, the acknowledged put or compare-and-set that W overwrote, chosen only where some
 *       such read was invoked after W completed. W0's revision is below W's, so the model places W0
 *       before W, W before that read, and only W0 ever wrote W0's value.
 * </ul>
 */
class LinearizabilityCheckerPropertyTest {
  /** Derived seeds tried to find a history a mutation applies to, before the property fails. */
  private static final int MUTABLE_HISTORY_ATTEMPTS_MAX = 50;
  private static final String NEVER_WRITTEN = "never-written";

  @Property(tries = 300)
  void check_simulatedCorrectHistory_isOk(@ForAll long seed) {
    SimulatedHistory h = SimulatedHistory.generate(seed);

    LinearizabilityChecker.Result linearizable = new LinearizabilityChecker().check(h.operations());
    RevisionCheck.Result revisions = RevisionCheck.check(h.operations());
    WatchCheck.Result watch = WatchCheck.check(1, h.events(), h.operations());

    assertThat(linearizable.verdict()).as("%s", linearizable).isEqualTo(Verdict.OK);
    assertThat(revisions.findings()).isEmpty();
    assertThat(watch.findings()).isEmpty();
  }

  @Property(tries = 20)
  void check_largerSimulatedCorrectHistory_isOk(@ForAll long seed) {
    SimulatedHistory h = SimulatedHistory.generate(seed, new SimulatedHistory.Shape(8, 50, 3));

    LinearizabilityChecker.Result linearizable = new LinearizabilityChecker().check(h.operations());

    assertThat(linearizable.verdict()).as("%s", linearizable).isEqualTo(Verdict.OK);
    assertThat(RevisionCheck.check(h.operations()).findings()).isEmpty();
    assertThat(WatchCheck.check(1, h.events(), h.operations()).findings()).isEmpty();
  }

  @Property(tries = 300)
  void check_readOfNeverWrittenValue_isViolation(@ForAll long seed) {
    List<Operation> mutated = mutate(seed, LinearizabilityCheckerPropertyTest::readOfNeverWrittenValue);

    assertThat(new LinearizabilityChecker().check(mutated).verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Property(tries = 300)
  void check_acknowledgedWriteLostFromLaterReads_isViolation(@ForAll long seed) {
    List<Operation> mutated = mutate(seed, LinearizabilityCheckerPropertyTest::lostWrite);

    LinearizabilityChecker.Result r = new LinearizabilityChecker().check(mutated);
    assertThat(r.verdict()).as("%s", r).isEqualTo(Verdict.VIOLATION);
  }

  private static List<Operation> mutate(long seed, Function<SimulatedHistory, Optional<List<Operation>>> mutation) {
    for (int attempt = 0; attempt < MUTABLE_HISTORY_ATTEMPTS_MAX; attempt++) {
      Optional<List<Operation>> mutated = mutation.apply(SimulatedHistory.generate(seed + attempt * 0x9E3779B97F4A7C15L));
      if (mutated.isPresent()) {
        return mutated.get();
      }
    }
    throw new AssertionError("no history the mutation applies to in " + MUTABLE_HISTORY_ATTEMPTS_MAX + " attempts from seed " + seed);
  }

  private static Optional<List<Operation>> readOfNeverWrittenValue(SimulatedHistory h) {
    List<Operation> ops = new ArrayList<>(h.operations());
    List<Integer> reads = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      if (ops.get(i).known() && ops.get(i).response() instanceof Response.Get) {
        reads.add(i);
      }
    }
    if (reads.isEmpty()) {
      return Optional.empty();
    }
    int i = reads.get(new Random(ops.size()).nextInt(reads.size()));
    Operation read = ops.get(i);
    Response.Get got = (Response.Get) read.response();
    ops.set(i, Operation.completed(read.client(), read.invokeNanos(), read.completeNanos(), read.request(),
        new Response.Get(NEVER_WRITTEN, Math.max(1, got.modRevision()), got.revision())));
    return Optional.of(ops);
  }

  private static Optional<List<Operation>> lostWrite(SimulatedHistory h) {
    List<Operation> ops = h.operations();
    for (Operation w : ops) {
      Operation w0 = h.previousWrite().get(w);
      if (w.writeRevision().isEmpty() || w.request() instanceof Request.Delete
          || w0 == null || w0.writeRevision().isEmpty()) {
        continue;
      }
      String lost = written(w);
      boolean readAfter = ops.stream().anyMatch(r -> seen(r, lost) && r.invokeNanos() > w.completeNanos());
      if (!readAfter) {
        continue;
      }
      long oldRevision = w0.writeRevision().getAsLong();
      List<Operation> mutated = new ArrayList<>();
      for (Operation r : ops) {
        mutated.add(!seen(r, lost) ? r : Operation.completed(r.client(), r.invokeNanos(), r.completeNanos(), r.request(),
            new Response.Get(written(w0), oldRevision, r.response().revision())));
      }
      return Optional.of(mutated);
    }
    return Optional.empty();
  }

  private static boolean seen(Operation read, String value) {
    return read.response() instanceof Response.Get got && value.equals(got.value());
  }

  private static String written(Operation write) {
    return write.request() instanceof Request.Put put ? put.value() : ((Request.CompareAndSet) write.request()).newValue();
  }
}
