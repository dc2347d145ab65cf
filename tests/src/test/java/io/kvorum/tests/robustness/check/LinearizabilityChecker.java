package io.kvorum.tests.robustness.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks that each key's operations are linearizable with respect to a register.
 *
 * <p>Design note. Linearizability is compositional (Herlihy and Wing), so every key is checked on
 * its own. For one key the search is Wing and Gong's, with Lowe's memoization ("Testing for
 * linearizability", 2017): a depth-first search that repeatedly picks a <em>candidate</em> (an
 * operation not yet linearized that was invoked no later than the earliest completion among the
 * acknowledged operations not yet linearized; anything invoked later must follow that one in real
 * time), applies it to the model and, if the model accepts its response, goes on from there;
 * otherwise it tries the next candidate, and when none is left it backtracks. The history is
 * linearizable when every acknowledged operation has been placed. Operations whose outcome is
 * unknown complete "never", so they never restrict others; placing one applies its effect, and
 * leaving it out forever is the history in which it never took effect. A read with an unknown
 * outcome observed nothing and is left out from the start.
 *
 * <p>Memoization: two search paths that have placed the same set of operations (a bit set over
 * the key's operations) and reached the same model state have the same future, so each (set,
 * state) pair is explored once. The cache holds at most {@link Limits#cacheEntriesMax()} pairs;
 * when full it stops remembering, which keeps the search correct but may repeat work.
 *
 * <p>The model is a register of (value or absent, mod revision) plus a revision floor: etcd's
 * revisions follow its linearization order across all keys, so along the order chosen for one key
 * a write must create a revision above every revision already seen (by writes or in read
 * headers), and a response's header revision may not be below it. A write whose outcome is unknown
 * leaves the mod revision unknown until a read reveals it. This is sound (a correct history is
 * never rejected) but not complete for such writes: their revision cannot be checked against later
 * writes.
 *
 * <p>Bounds: each attempt to apply an operation to the model is a step; a key that needs more
 * than {@link Limits#stepsMax()} steps is reported {@link Verdict#UNKNOWN} with that reason. The
 * search is worst-case exponential (the problem is NP-complete), most of all in the number of
 * concurrent operations with unknown outcome.
 *
 * <p>A violation is explained by the longest sequence the search managed to linearize and the
 * acknowledged candidates that could not be placed after it.
 */
public final class LinearizabilityChecker {
  /** Model-step attempts allowed per key before the key's verdict is {@link Verdict#UNKNOWN}. */
  public static final long STEPS_MAX_DEFAULT = 5_000_000;
  /** (placed set, state) pairs remembered per key; at 1,000 operations a pair costs about 250 bytes. */
  public static final int CACHE_ENTRIES_MAX_DEFAULT = 500_000;

  /** The search's limits. */
  public record Limits(long stepsMax, int cacheEntriesMax) {
    public Limits {
      if (stepsMax < 1) {
        throw new IllegalArgumentException("stepsMax must be positive: " + stepsMax);
      }
      if (cacheEntriesMax < 0) {
        throw new IllegalArgumentException("cacheEntriesMax must not be negative: " + cacheEntriesMax);
      }
    }

    public static Limits defaults() {
      return new Limits(STEPS_MAX_DEFAULT, CACHE_ENTRIES_MAX_DEFAULT);
    }
  }

  /**
   * One key's verdict. For a violation, {@code longestPrefix} is the longest linearization found
   * and {@code unplaced} the acknowledged operations none of which could follow it.
   */
  public record KeyResult(
      String key, Verdict verdict, String reason, List<Operation> longestPrefix, List<Operation> unplaced, long steps) {
    public KeyResult {
      longestPrefix = List.copyOf(longestPrefix);
      unplaced = List.copyOf(unplaced);
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder(key + ": " + verdict + " after " + steps + " steps");
      if (!reason.isEmpty()) {
        b.append(": ").append(reason);
      }
      if (verdict == Verdict.VIOLATION) {
        int from = Math.max(0, longestPrefix.size() - EXPLANATION_PREFIX_OPERATIONS_MAX);
        b.append("\n  longest linearizable prefix (").append(longestPrefix.size()).append(" operations")
            .append(from > 0 ? ", last " + (longestPrefix.size() - from) : "").append("):");
        for (Operation o : longestPrefix.subList(from, longestPrefix.size())) {
          b.append("\n    ").append(o);
        }
        b.append("\n  could not be placed next:");
        for (Operation o : unplaced) {
          b.append("\n    ").append(o);
        }
      }
      return b.toString();
    }
  }

  /** Operations of the longest prefix printed in a violation's explanation. */
  static final int EXPLANATION_PREFIX_OPERATIONS_MAX = 20;

  /** The verdict over all keys: the worst key's. */
  public record Result(Verdict verdict, List<KeyResult> keys) {
    public Result {
      keys = List.copyOf(keys);
    }

    public List<KeyResult> notOk() {
      return keys.stream().filter(k -> k.verdict() != Verdict.OK).toList();
    }

    @Override
    public String toString() {
      List<KeyResult> bad = notOk();
      return verdict + " over " + keys.size() + " keys" + (bad.isEmpty() ? "" : "\n" + bad);
    }
  }

  private final Limits limits;

  public LinearizabilityChecker(Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  public LinearizabilityChecker() {
    this(Limits.defaults());
  }

  /** Checks every key of the history on its own. */
  public Result check(List<Operation> history) {
    Map<String, List<Operation>> byKey = new LinkedHashMap<>();
    for (Operation o : history) {
      byKey.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
    }
    List<KeyResult> results = new ArrayList<>();
    Verdict verdict = Verdict.OK;
    for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
      KeyResult r = checkKey(e.getKey(), e.getValue());
      results.add(r);
      verdict = verdict.and(r.verdict());
    }
    return new Result(verdict, results);
  }

  /** The model's state: the key's value ({@code null} when absent), its mod revision and the revision floor. */
  private record Register(String value, long modRevision, long floor) {
    static final Register INITIAL = new Register(null, 0, 0);
  }

  /** A mod revision created by a write whose outcome, and so revision, is unknown. */
  private static final long UNKNOWN_REVISION = -1;

  /** A search frame: the state reached, the candidates from it and the next one to try. */
  private static final class Frame {
    final Register state;
    final int[] candidates;
    int next;
    int chosen = -1;

    Frame(Register state, int[] candidates) {
      this.state = state;
      this.candidates = candidates;
    }
  }

  private record Visited(BitSet placed, Register state) {}

  KeyResult checkKey(String key, List<Operation> keyOperations) {
    List<Operation> ops = keyOperations.stream()
        .filter(o -> o.known() || o.isWrite())
        .sorted(Comparator.comparingLong(Operation::invokeNanos))
        .toList();
    int knownTotal = (int) ops.stream().filter(Operation::known).count();
    BitSet placed = new BitSet(ops.size());
    Set<Visited> cache = new HashSet<>();
    Deque<Frame> stack = new ArrayDeque<>();
    stack.push(new Frame(Register.INITIAL, candidates(ops, placed)));
    int knownPlaced = 0;
    long steps = 0;
    List<Operation> longest = List.of();
    Frame deepest = stack.peek();
    while (knownPlaced < knownTotal) {
      Frame frame = stack.peek();
      if (frame.next == frame.candidates.length) {
        stack.pop();
        if (stack.isEmpty()) {
          List<Operation> unplaced = new ArrayList<>();
          for (int c : deepest.candidates) {
            if (ops.get(c).known()) {
              unplaced.add(ops.get(c));
            }
          }
          return new KeyResult(key, Verdict.VIOLATION, "no linearization places every acknowledged operation",
              longest, unplaced, steps);
        }
        int undone = stack.peek().chosen;
        placed.clear(undone);
        knownPlaced -= ops.get(undone).known() ? 1 : 0;
        continue;
      }
      if (steps == limits.stepsMax()) {
        return new KeyResult(key, Verdict.UNKNOWN,
            "gave up after stepsMax=" + limits.stepsMax() + " model steps with " + knownPlaced + " of " + knownTotal
                + " acknowledged operations placed", longest, List.of(), steps);
      }
      int c = frame.candidates[frame.next++];
      steps++;
      Register next = step(frame.state, ops.get(c));
      if (next == null) {
        continue;
      }
      placed.set(c);
      Visited visited = new Visited((BitSet) placed.clone(), next);
      if (cache.contains(visited)) {
        placed.clear(c);
        continue;
      }
      if (cache.size() < limits.cacheEntriesMax()) {
        cache.add(visited);
      }
      knownPlaced += ops.get(c).known() ? 1 : 0;
      frame.chosen = c;
      Frame child = new Frame(next, candidates(ops, placed));
      stack.push(child);
      if (stack.size() - 1 > longest.size()) {
        List<Operation> prefix = new ArrayList<>(stack.size() - 1);
        stack.descendingIterator().forEachRemaining(f -> {
          if (f.chosen >= 0 && f != child) {
            prefix.add(ops.get(f.chosen));
          }
        });
        longest = prefix;
        deepest = child;
      }
    }
    return new KeyResult(key, Verdict.OK, "", List.of(), List.of(), steps);
  }

  /**
   * The operations that may come next: not yet placed and invoked no later than the earliest
   * completion of an acknowledged operation not yet placed. {@code ops} is sorted by invocation.
   */
  private static int[] candidates(List<Operation> ops, BitSet placed) {
    long earliestComplete = Long.MAX_VALUE;
    for (int i = placed.nextClearBit(0); i < ops.size(); i = placed.nextClearBit(i + 1)) {
      earliestComplete = Math.min(earliestComplete, ops.get(i).completeNanos());
    }
    int[] result = new int[ops.size() - placed.cardinality()];
    int n = 0;
    for (int i = placed.nextClearBit(0); i < ops.size() && ops.get(i).invokeNanos() <= earliestComplete;
        i = placed.nextClearBit(i + 1)) {
      result[n++] = i;
    }
    return Arrays.copyOf(result, n);
  }

  /**
   * Applies one operation to the register: the next state, or {@code null} when its response is
   * impossible from this state (or, for an unknown outcome, when it could have had no effect, which
   * is the same as never placing it).
   */
  private static Register step(Register s, Operation op) {
    Request request = op.request();
    Response response = op.response();
    if (request instanceof Request.Put put) {
      if (response == null) {
        return new Register(put.value(), UNKNOWN_REVISION, s.floor());
      }
      long rev = response.revision();
      return rev > s.floor() ? new Register(put.value(), rev, rev) : null;
    }
    if (request instanceof Request.Get) {
      Response.Get got = (Response.Get) response;
      long rev = got.revision();
      if (rev < s.floor() || !Objects.equals(got.value(), s.value())) {
        return null;
      }
      if (s.modRevision() == UNKNOWN_REVISION) {
        // The unknown write's revision is revealed: it cannot exceed this read's header.
        return got.modRevision() <= rev ? new Register(s.value(), got.modRevision(), rev) : null;
      }
      return got.modRevision() == s.modRevision() ? new Register(s.value(), s.modRevision(), rev) : null;
    }
    if (request instanceof Request.Delete) {
      if (response == null) {
        return s.value() == null ? null : new Register(null, 0, s.floor());
      }
      Response.Delete deleted = (Response.Delete) response;
      long rev = deleted.revision();
      if (deleted.deleted()) {
        return s.value() != null && rev > s.floor() ? new Register(null, 0, rev) : null;
      }
      return s.value() == null && rev >= s.floor() ? new Register(null, 0, rev) : null;
    }
    Request.CompareAndSet cas = (Request.CompareAndSet) request;
    boolean mayMatch = s.modRevision() == cas.expectedModRevision()
        || s.modRevision() == UNKNOWN_REVISION && cas.expectedModRevision() > 0;
    boolean mayDiffer = s.modRevision() != cas.expectedModRevision();
    if (response == null) {
      return mayMatch ? new Register(cas.newValue(), UNKNOWN_REVISION, s.floor()) : null;
    }
    Response.CompareAndSet result = (Response.CompareAndSet) response;
    long rev = result.revision();
    if (result.succeeded()) {
      return mayMatch && rev > s.floor() ? new Register(cas.newValue(), rev, rev) : null;
    }
    return mayDiffer && rev >= s.floor() ? new Register(s.value(), s.modRevision(), rev) : null;
  }
}
