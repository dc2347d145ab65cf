package io.kvorum.tests.robustness;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.tests.robustness.check.Finding;
import io.kvorum.tests.robustness.check.LinearizabilityChecker;
import io.kvorum.tests.robustness.check.Operation;
import io.kvorum.tests.robustness.check.Request;
import io.kvorum.tests.robustness.check.Response;
import io.kvorum.tests.robustness.check.RevisionCheck;
import io.kvorum.tests.robustness.check.Verdict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One robustness run: a process cluster under the recorded workload (puts, gets, range reads,
 * deletes, compare-and-set txns on a few keys; two watchers; leases; compactions) while a fault
 * thread injects the scenario's faults; then every check. The run is repeatable in what it
 * chooses (keys, operations, faults, their order) from its seed, not in its timing.
 */
final class RobustnessRun {
  /** Keys the KV workload uses: few, so that operations on one key overlap and conflict. */
  static final int KEYS = 8;
  static final String PREFIX = "kv/";
  /** Recording clients. */
  static final int CLIENTS = 6;
  /** Time between compactions, and how far behind the current revision they compact. */
  static final long COMPACT_INTERVAL_MS = 3_000;
  static final long COMPACT_LAG_REVISIONS = 200;
  /** The bound on the wait for the cluster to settle after the load. */
  static final long SETTLE_MS = 60_000;

  /** What a scenario runs: members, faults drawn at random from the list, load time, time between faults. */
  record Scenario(String name, int members, List<Fault> faults, long loadMs, long faultIntervalMs, String failpoints) {
    Scenario(String name, int members, List<Fault> faults, long loadMs, long faultIntervalMs) {
      this(name, members, faults, loadMs, faultIntervalMs, "");
    }
  }

  /** What a run did and what the checks said. */
  record Report(Scenario scenario, long seed, int operations, int unknown, UnknownOutcomes.Resolved resolved,
      Map<String, Long> errors,
      Map<Fault, Integer> faults, Verdict linearizable, Verdict revisions, WatchRecorder.Outcome watch1,
      WatchRecorder.Outcome watch2, int leasesGranted, int leaseChecks, int compactions, boolean membersAgree,
      List<String> findings, long checkMs) {
    boolean ok() {
      return linearizable == Verdict.OK && revisions == Verdict.OK && watch1.verdict() == Verdict.OK
          && watch2.verdict() == Verdict.OK && membersAgree && findings.isEmpty();
    }

    @Override
    public String toString() {
      return String.format("%s seed=%d: %d operations (%d unknown: %d happened, %d never, %d open), faults %s, linearizable %s, revisions %s, "
          + "watch %s/%s (%d+%d events, %d segments, %d progress), leases %d granted %d checked, %d compactions, "
          + "members agree %s, checks %d ms; errors %s%s", scenario.name
          + (scenario.failpoints.isEmpty() ? "" : " [" + scenario.failpoints + "]"), seed, operations, unknown,
          resolved.happened(), resolved.neverHappened(), resolved.stillUnknown(), faults,
          linearizable, revisions, watch1.verdict(), watch2.verdict(), watch1.events(), watch2.events(),
          watch1.segments() + watch2.segments(), watch1.progressResponses() + watch2.progressResponses(),
          leasesGranted, leaseChecks, compactions, membersAgree, checkMs, errors,
          findings.isEmpty() ? "" : "\nfindings:\n  " + String.join("\n  ", findings.subList(0, Math.min(20, findings.size()))));
    }
  }

  private RobustnessRun() {}

  static Report run(Scenario s, long seed, Path dir, List<String> flags) throws Exception {
    Random random = new Random(seed);
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      keys.add(PREFIX + i);
    }
    try (ProcessCluster c = ProcessCluster.start(dir, s.members(), flags, Fault.placement(s.faults(), s.failpoints()))) {
      c.awaitLeader(Fault.LEADER_WAIT_MS);
      History history = new History();
      long start = c.status(c.members().get(0)).orElseThrow().getHeader().getRevision() + 1;
      AtomicBoolean stop = new AtomicBoolean();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(s.loadMs());
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        int id = i;
        KvClient client = new KvClient(id, c, history);
        long clientSeed = random.nextLong();
        threads.add(thread("client-" + id, () -> clientLoop(client, keys, new Random(clientSeed), id, stop)));
      }
      Map<Fault, Integer> injected = new EnumMap<>(Fault.class);
      long faultSeed = random.nextLong();
      AtomicReference<Throwable> faultError = new AtomicReference<>();
      Thread faults = thread("faults", () -> {
        try {
          faultLoop(c, s, new Random(faultSeed), deadline, injected);
        } catch (RuntimeException e) {
          faultError.set(e);
        }
      });
      LeaseWorker leases = new LeaseWorker(c, random.nextLong());
      threads.add(thread("leases", () -> {
        while (!stop.get()) {
          leases.once();
        }
      }));
      int[] compactions = {0};
      AtomicLong compactedUpTo = new AtomicLong();
      KvClient compactor = new KvClient(CLIENTS, c, new History());
      threads.add(thread("compactor", () -> {
        long done = 0;
        while (!stop.get()) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(COMPACT_INTERVAL_MS));
          try {
            long rev = compactor.call(kv -> kv.range(RangeRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8(PREFIX + "0")).build()).getHeader().getRevision());
            if (rev - COMPACT_LAG_REVISIONS > done) {
              compactedUpTo.accumulateAndGet(rev - COMPACT_LAG_REVISIONS, Math::max);
              compactor.call(kv -> kv.compact(CompactionRequest.newBuilder().setRevision(rev - COMPACT_LAG_REVISIONS).build()));
              done = rev - COMPACT_LAG_REVISIONS;
              compactions[0]++;
            }
          } catch (StatusRuntimeException e) {
            // A member down or no leader: the next round tries again.
          }
        }
      }));
      WatchRecorder w1 = new WatchRecorder(c, PREFIX, start, 0);
      WatchRecorder w2 = new WatchRecorder(c, PREFIX, start, 1);
      while (System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
      faults.join();
      stop.set(true);
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(60));
      }
      // The last write: the watchers must reach it, and every member must agree on what precedes it.
      c.awaitLeader(SETTLE_MS);
      KvClient last = new KvClient(CLIENTS + 1, c, history);
      Response end = null;
      // Each attempt writes its own value: the checker takes a value the watchers saw for the write
      // that wrote it, and a refused attempt with the same value as the acknowledged one would be
      // given its revision (a long run's one_way_from_leader-3 was flagged so, "too many requests" on
      // a member still applying what it missed).
      for (int i = 0; i < 50 && end == null; i++) {
        end = last.run(new Request.Put(PREFIX + "0", "end-" + i));
      }
      List<String> findings = new ArrayList<>();
      if (faultError.get() != null) {
        findings.add("a fault could not be injected or undone: " + faultError.get() + " caused by "
            + faultError.get().getCause());
      }
      if (end == null) {
        findings.add("the cluster did not take a write after the faults");
      }
      boolean agree;
      try {
        Map<String, Long> hashes = c.awaitAgreement(SETTLE_MS);
        agree = hashes.values().stream().distinct().count() == 1;
        if (!agree) {
          findings.add("members disagree on HashKV: " + hashes);
        }
      } catch (IllegalStateException e) {
        agree = false;
        findings.add(e.getMessage());
      }
      long endRevision = end == null ? 0 : end.revision();
      boolean watched = end != null && w1.awaitCaughtUp(endRevision, SETTLE_MS) && w2.awaitCaughtUp(endRevision, SETTLE_MS);
      if (!watched) {
        findings.add("a watcher did not reach revision " + endRevision);
      }
      w1.close();
      w2.close();
      List<Operation> ops = history.operations();
      long checkStart = System.nanoTime();
      Map<String, WatchRecorder.Seen> seen = new HashMap<>(w2.seenValues());
      seen.putAll(w1.seenValues());
      UnknownOutcomes.Resolved resolved = UnknownOutcomes.resolve(ops, seen, watched);
      LinearizabilityChecker.Result lin = new LinearizabilityChecker().check(resolved.history());
      lin.notOk().forEach(k -> findings.add("linearizability: " + k));
      RevisionCheck.Result rev = RevisionCheck.check(resolved.history());
      rev.findings().forEach(f -> findings.add("revisions: " + f.description()));
      WatchRecorder.Outcome o1 = w1.check(ops, compactedUpTo.get());
      WatchRecorder.Outcome o2 = w2.check(ops, compactedUpTo.get());
      for (Finding f : o1.findings()) {
        findings.add("watch 1: " + f.description());
      }
      for (Finding f : o2.findings()) {
        findings.add("watch 2: " + f.description());
      }
      leases.findings().forEach(f -> findings.add("lease: " + f.description()));
      long checkMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - checkStart);
      int unknown = (int) ops.stream().filter(o -> !o.known()).count();
      return new Report(s, seed, ops.size(), unknown, resolved, history.errors(), injected, lin.verdict(), rev.verdict(),
          o1, o2, leases.granted, leases.checked, compactions[0], agree, findings, checkMs);
    }
  }

  private static void clientLoop(KvClient client, List<String> keys, Random r, int id, AtomicBoolean stop) {
    Map<String, Long> lastModRevision = new HashMap<>();
    long n = 0;
    while (!stop.get()) {
      String key = keys.get(r.nextInt(keys.size()));
      int roll = r.nextInt(100);
      String value = "c" + id + "-" + (n++);
      if (roll < 10) {
        client.runRange(keys, PREFIX);
        continue;
      }
      Request req;
      if (roll < 45) {
        req = new Request.Get(key);
      } else if (roll < 70) {
        req = new Request.Put(key, value);
      } else if (roll < 90) {
        req = new Request.CompareAndSet(key, lastModRevision.getOrDefault(key, 0L), value);
      } else {
        req = new Request.Delete(key);
      }
      Response resp = client.run(req);
      if (resp instanceof Response.Get g) {
        lastModRevision.put(key, g.modRevision());
      } else if (resp instanceof Response.Put || resp instanceof Response.CompareAndSet cs && cs.succeeded()) {
        lastModRevision.put(key, resp.revision());
      } else if (resp instanceof Response.Delete d && d.deleted()) {
        lastModRevision.put(key, 0L);
      }
    }
  }

  private static void faultLoop(ProcessCluster c, Scenario s, Random r, long deadline, Map<Fault, Integer> injected) {
    if (s.faults().isEmpty()) {
      return;
    }
    while (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(s.faultIntervalMs()) < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(s.faultIntervalMs()));
      Fault f = s.faults().get(r.nextInt(s.faults().size()));
      try {
        f.inject(c, r);
        synchronized (injected) {
          injected.merge(f, 1, Integer::sum);
        }
      } catch (Exception e) {
        throw new IllegalStateException("fault " + f + " failed", e);
      }
    }
  }

  private static Thread thread(String name, Runnable r) {
    Thread t = new Thread(r, "robustness-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
