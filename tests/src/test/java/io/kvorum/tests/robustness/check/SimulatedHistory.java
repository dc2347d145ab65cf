package io.kvorum.tests.robustness.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A history recorded from a simulated, correct etcd: one store with a global revision, clients
 * each running one operation at a time, and every operation taking effect at one instant between
 * its invocation and completion. An operation with an unknown outcome takes effect at some instant
 * after its invocation, possibly after the client's later operations, or never.
 *
 * <p>Every value written is unique ({@code "v"} and the operation's index), which is what lets the
 * mutations in {@link LinearizabilityCheckerPropertyTest} be guaranteed detectable.
 *
 * @param operations the recorded history, in no particular order
 * @param events what a watch on every key from revision 1 would deliver
 * @param previousWrite for each write that took effect, the write that took effect on its key just before it (if any)
 */
record SimulatedHistory(List<Operation> operations, List<WatchEvent> events, Map<Operation, Operation> previousWrite) {
  static final List<String> KEYS = List.of("a", "b", "c", "d");
  static final int UNKNOWN_OUTCOME_PERCENT = 10;

  /** How much to simulate: clients, operations each, and keys (at most {@code KEYS.size()}). */
  record Shape(int clients, int operationsPerClient, int keys) {
    static final Shape SMALL = new Shape(4, 10, 2);
  }
  /** How long an operation may run, in ticks of the simulated clock. */
  static final int DURATION_TICKS_MAX = 50;
  /** How long after its invocation an operation with an unknown outcome may take effect. */
  static final int UNKNOWN_EFFECT_DELAY_TICKS_MAX = 300;

  /** An operation being simulated: its request, its times and when (if ever) it takes effect. */
  private static final class Pending {
    final int index;
    final int client;
    final long invoke;
    final long complete;
    final long effect;
    final boolean known;
    final String kind;
    final String key;
    Request request;
    Response response;

    Pending(int index, int client, long invoke, long complete, long effect, boolean known, String kind, String key) {
      this.index = index;
      this.client = client;
      this.invoke = invoke;
      this.complete = complete;
      this.effect = effect;
      this.known = known;
      this.kind = kind;
      this.key = key;
    }
  }

  /** The store's state for one key. */
  private record Entry(String value, long modRevision, Pending writer) {}

  static SimulatedHistory generate(long seed) {
    return generate(seed, Shape.SMALL);
  }

  static SimulatedHistory generate(long seed, Shape shape) {
    Random random = new Random(seed);
    List<Pending> all = new ArrayList<>();
    for (int client = 0; client < shape.clients(); client++) {
      long clock = random.nextInt(DURATION_TICKS_MAX);
      for (int i = 0; i < shape.operationsPerClient(); i++) {
        long invoke = clock + random.nextInt(DURATION_TICKS_MAX);
        long complete = invoke + 1 + random.nextInt(DURATION_TICKS_MAX);
        boolean known = random.nextInt(100) >= UNKNOWN_OUTCOME_PERCENT;
        long effect;
        if (known) {
          effect = invoke + (long) (random.nextDouble() * (complete - invoke));
        } else {
          effect = random.nextBoolean() ? Long.MAX_VALUE : invoke + random.nextInt(UNKNOWN_EFFECT_DELAY_TICKS_MAX);
        }
        int roll = random.nextInt(100);
        String kind = roll < 35 ? "put" : roll < 70 ? "get" : roll < 80 ? "delete" : "cas";
        all.add(new Pending(all.size(), client, invoke, complete, effect, known, kind, KEYS.get(random.nextInt(shape.keys()))));
        clock = complete;
      }
    }

    Map<String, Entry> store = new HashMap<>();
    long revision = 1;
    List<WatchEvent> events = new ArrayList<>();
    Map<Pending, Pending> previous = new HashMap<>();
    List<Pending> byEffect = all.stream()
        .filter(p -> p.effect != Long.MAX_VALUE)
        .sorted(Comparator.comparingLong((Pending p) -> p.effect).thenComparingInt(p -> p.index))
        .toList();
    for (Pending p : byEffect) {
      Entry e = store.get(p.key);
      String value = "v" + p.index;
      switch (p.kind) {
        case "put" -> {
          revision++;
          p.request = new Request.Put(p.key, value);
          p.response = new Response.Put(revision);
          record(store, events, previous, p, e, value, revision);
        }
        case "get" -> {
          p.request = new Request.Get(p.key);
          p.response = e == null ? new Response.Get(null, 0, revision) : new Response.Get(e.value(), e.modRevision(), revision);
        }
        case "delete" -> {
          p.request = new Request.Delete(p.key);
          if (e == null) {
            p.response = new Response.Delete(false, revision);
          } else {
            revision++;
            p.response = new Response.Delete(true, revision);
            record(store, events, previous, p, e, null, revision);
          }
        }
        case "cas" -> {
          long current = e == null ? 0 : e.modRevision();
          long expected = random.nextBoolean() ? current : current + 1 + random.nextInt(3);
          p.request = new Request.CompareAndSet(p.key, expected, value);
          if (expected == current) {
            revision++;
            p.response = new Response.CompareAndSet(true, revision);
            record(store, events, previous, p, e, value, revision);
          } else {
            p.response = new Response.CompareAndSet(false, revision);
          }
        }
        default -> throw new IllegalStateException("no such kind: " + p.kind);
      }
    }

    Map<Pending, Operation> recorded = new HashMap<>();
    List<Operation> operations = new ArrayList<>();
    for (Pending p : all) {
      if (p.request == null) {
        // Never took effect; its request is still what the client sent.
        p.request = switch (p.kind) {
          case "put" -> new Request.Put(p.key, "v" + p.index);
          case "get" -> new Request.Get(p.key);
          case "delete" -> new Request.Delete(p.key);
          default -> new Request.CompareAndSet(p.key, random.nextInt(5), "v" + p.index);
        };
      }
      Operation o = p.known
          ? Operation.completed(p.client, p.invoke, p.complete, p.request, p.response)
          : Operation.unknown(p.client, p.invoke, p.request);
      recorded.put(p, o);
      operations.add(o);
    }
    Map<Operation, Operation> previousWrite = new HashMap<>();
    previous.forEach((write, before) -> previousWrite.put(recorded.get(write), recorded.get(before)));
    return new SimulatedHistory(List.copyOf(operations), List.copyOf(events), previousWrite);
  }

  private static void record(Map<String, Entry> store, List<WatchEvent> events, Map<Pending, Pending> previous,
      Pending p, Entry before, String value, long revision) {
    if (before != null) {
      previous.put(p, before.writer());
    }
    if (value == null) {
      store.remove(p.key);
      events.add(new WatchEvent(p.key, revision, WatchEvent.Type.DELETE, null));
    } else {
      store.put(p.key, new Entry(value, revision, p));
      events.add(new WatchEvent(p.key, revision, WatchEvent.Type.PUT, value));
    }
  }
}
