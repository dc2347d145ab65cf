package io.kvorum.server.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.WriteTxn;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The watch model test: random writes (puts, deletes, multi-key transactions, range deletions)
 * and compactions against a real store, with random watchers (single keys, ranges, prefixes,
 * from-key; start revisions in the past, now or the future; NOPUT/NODELETE filters; prev_kv) on
 * several streams, one of which is not read until the end so its watchers overflow and catch up
 * from history. Every watcher's event stream must equal the model's history slice: in order, no
 * gaps, no duplicates, all events of one revision in one response; a watcher whose start was
 * compacted must have been told so before anything was skipped.
 */
class WatchHubModelTest {
  private static final List<String> KEYS = List.of("a", "a/1", "a/2", "a/3", "b", "b/1", "b/2", "c", "d");
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(20);
  private static Path root;
  private static final AtomicInteger TRY = new AtomicInteger();

  @BeforeContainer
  static void createRoot() throws IOException {
    root = Files.createTempDirectory("kvorum-watch-model");
  }

  @AfterContainer
  static void deleteRoot() throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** What the test asked a watcher to be. */
  static final class Spec {
    final WatchCreateRequest req;
    final KeyRange range;
    long start;
    long id = -2;
    final List<WatchResponse> got = new ArrayList<>();
    long compactedAt;

    Spec(WatchCreateRequest req) {
      this.req = req;
      this.range = KeyRange.fromRequest(req.getKey(), req.getRangeEnd());
    }

    boolean wants(Event e) {
      for (WatchCreateRequest.FilterType f : req.getFiltersList()) {
        if (f == WatchCreateRequest.FilterType.NOPUT && e.getType() == Event.EventType.PUT) {
          return false;
        }
        if (f == WatchCreateRequest.FilterType.NODELETE && e.getType() == Event.EventType.DELETE) {
          return false;
        }
      }
      return range.contains(e.getKv().getKey());
    }
  }

  /** One client stream as the test sees it. */
  static final class Client {
    final WatchStream stream;
    final boolean slow;
    final ArrayDeque<Spec> awaitingCreated = new ArrayDeque<>();
    final Map<Long, Spec> byId = new HashMap<>();
    final List<Spec> all = new ArrayList<>();
    long lastProgress = -1;
    int progressResponses;

    Client(WatchStream stream, boolean slow) {
      this.stream = stream;
      this.slow = slow;
    }

    void drain() {
      List<WatchResponse> rs;
      while (!(rs = stream.poll()).isEmpty()) {
        for (WatchResponse r : rs) {
          take(r);
        }
      }
    }

    void take(WatchResponse r) {
      if (r.getCreated()) {
        Spec s = awaitingCreated.pollFirst();
        assertThat(s).as("created without a pending create").isNotNull();
        assertThat(r.getCanceled()).isFalse();
        s.id = r.getWatchId();
        if (s.req.getStartRevision() == 0) {
          s.start = r.getHeader().getRevision() + 1;
        }
        assertThat(byId.put(s.id, s)).as("watch id reused").isNull();
        return;
      }
      if (r.getWatchId() == WatchHub.NO_WATCH_ID) {
        lastProgress = r.getHeader().getRevision();
        progressResponses++;
        return;
      }
      Spec s = byId.get(r.getWatchId());
      assertThat(s).as("response for unknown watch %d", r.getWatchId()).isNotNull();
      assertThat(s.compactedAt).as("response after the compacted cancel").isZero();
      if (r.getCompactRevision() != 0) {
        assertThat(r.getCanceled()).isTrue();
        s.compactedAt = r.getCompactRevision();
        return;
      }
      // A synced watcher's response holds one revision and is headed with it; a catch-up response
      // (etcd's syncWatchers) may hold several, headed with the hub's revision, never below them.
      for (Event e : r.getEventsList()) {
        assertThat(e.getKv().getModRevision()).as("header at or past every event").isLessThanOrEqualTo(
            r.getHeader().getRevision());
      }
      s.got.add(r);
    }
  }

  static final java.util.concurrent.atomic.AtomicLong VICTIMS = new java.util.concurrent.atomic.AtomicLong();

  @AfterContainer
  static void theSlowStreamOverflowed() {
    // With 8 slots per stream and an unread stream, the history fallback must have been exercised.
    assertThat(VICTIMS.get()).isPositive();
  }

  @Property(tries = 30)
  void everyWatcher_seesExactlyTheModelsHistorySlice(@ForAll long seed) throws Exception {
    Path dir = root.resolve("try-" + TRY.incrementAndGet());
    Random rnd = new Random(seed);
    try (Backend backend = Backend.open(dir)) {
      KvStore kv = KvStore.open(backend);
      WatchHub hub = new WatchHub(kv, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), 1 << 20,
          System::nanoTime, 0, 8).start();
      try {
        run(rnd, kv, hub);
      } finally {
        VICTIMS.addAndGet(hub.victimCount());
        hub.close();
        kv.close();
      }
    }
  }

  private void run(Random rnd, KvStore kv, WatchHub hub) {
    TreeMap<ByteString, KeyValue> state = new TreeMap<>(ByteString.unsignedLexicographicalComparator());
    Map<Long, List<Event>> history = new HashMap<>();
    Map<String, KeyValue> prevOf = new HashMap<>(); // "rev/sub" -> previous key-value
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      clients.add(new Client(hub.openStream(), i == 0));
    }
    long index = 1;
    long compactRev = -1;
    Set<Long> compactions = new java.util.HashSet<>();
    int steps = 150 + rnd.nextInt(250);
    for (int step = 0; step < steps; step++) {
      int op = rnd.nextInt(100);
      if (op < 12) {
        Client c = clients.get(rnd.nextInt(clients.size()));
        Spec s = new Spec(randomCreate(rnd, kv.currentRevision(), compactRev));
        s.start = s.req.getStartRevision();
        c.awaitingCreated.add(s);
        c.all.add(s);
        c.stream.create(s.req);
        continue;
      }
      if (op < 15 && kv.currentRevision() > compactRev + 1) {
        long at = compactRev + 1 + rnd.nextInt((int) (kv.currentRevision() - compactRev));
        kv.compact(at, new ConsistentIndex(index++, 1));
        compactRev = at;
        compactions.add(at);
        continue;
      }
      if (op < 30) {
        for (Client c : clients) {
          if (!c.slow) {
            c.drain();
          }
        }
      }
      try (WriteTxn w = kv.write(new ConsistentIndex(index++, 1))) {
        long rev = w.beginRevision() + 1;
        if (op < 45) {
          // A deletion of one key or a prefix, alone in its revision.
          String k = KEYS.get(rnd.nextInt(KEYS.size()));
          w.deleteRange(rnd.nextBoolean() ? KeyRange.single(b(k)) : KeyRange.prefix(b(k)));
          for (int sub = 0; sub < w.changes().size(); sub++) {
            prevOf.put(rev + "/" + sub, state.remove(w.changes().get(sub).getKv().getKey()));
          }
        } else {
          // One to four puts of distinct keys sharing the revision.
          Set<String> touched = new LinkedHashSet<>();
          int n = op < 75 ? 1 : 1 + rnd.nextInt(4);
          for (int i = 0; i < n; i++) {
            String k = KEYS.get(rnd.nextInt(KEYS.size()));
            if (!touched.add(k)) {
              continue;
            }
            w.put(b(k), b("v" + rnd.nextInt(1000)), 0);
            Event e = w.changes().get(w.changes().size() - 1);
            prevOf.put(rev + "/" + (w.changes().size() - 1), state.get(b(k)));
            state.put(b(k), e.getKv());
          }
        }
        long before = w.beginRevision();
        long after = w.end();
        if (after != before) {
          history.put(after, List.copyOf(w.changes()));
        }
      }
    }
    long finalRev = kv.currentRevision();
    // Everyone catches up: read every stream until it reports progress at the final revision.
    long deadline = System.nanoTime() + WAIT_NANOS;
    for (Client c : clients) {
      c.stream.requestProgress();
    }
    boolean done = false;
    while (!done) {
      done = true;
      for (Client c : clients) {
        int seen = c.progressResponses;
        c.drain();
        if (c.progressResponses != seen && c.lastProgress < finalRev) {
          c.stream.requestProgress();
        }
        done &= c.lastProgress == finalRev && c.awaitingCreated.isEmpty();
      }
      if (System.nanoTime() > deadline) {
        StringBuilder sb = new StringBuilder("watchers did not catch up to " + finalRev + ": " + hub.describe());
        for (Client c : clients) {
          sb.append("\n client slow=").append(c.slow).append(" lastProgress=").append(c.lastProgress)
              .append(" awaitingCreated=").append(c.awaitingCreated.size()).append(" pending=")
              .append(c.stream.hasPending()).append(" progressPending=").append(c.stream.progressPending);
          for (Watcher w : c.stream.watchers.values()) {
            sb.append("\n   w").append(w.id).append(" ").append(w.range).append(" next=").append(w.nextRev)
                .append(" synced=").append(w.synced);
          }
        }
        throw new AssertionError(sb.toString());
      }
      if (!done) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
    }
    for (Client c : clients) {
      for (Spec s : c.all) {
        check(s, history, prevOf, finalRev, compactions);
      }
    }
  }

  private static WatchCreateRequest randomCreate(Random rnd, long cur, long compactRev) {
    WatchCreateRequest.Builder b = WatchCreateRequest.newBuilder();
    String k = KEYS.get(rnd.nextInt(KEYS.size()));
    switch (rnd.nextInt(4)) {
      case 0 -> b.setKey(b(k));
      case 1 -> {
        KeyRange p = KeyRange.prefix(b(k));
        b.setKey(b(k)).setRangeEnd(p.end());
      }
      case 2 -> b.setKey(b(k)).setRangeEnd(ByteString.copyFrom(new byte[] {0}));
      default -> {
        String e = KEYS.get(rnd.nextInt(KEYS.size()));
        if (e.compareTo(k) <= 0) {
          b.setKey(b(k));
        } else {
          b.setKey(b(k)).setRangeEnd(b(e));
        }
      }
    }
    int startKind = rnd.nextInt(5);
    if (startKind == 1) {
      b.setStartRevision(Math.max(1, cur - rnd.nextInt(40)));
    } else if (startKind == 2) {
      b.setStartRevision(Math.max(1, compactRev - 1 + rnd.nextInt(4)));
    } else if (startKind == 3) {
      b.setStartRevision(cur + 1 + rnd.nextInt(5));
    }
    if (rnd.nextInt(5) == 0) {
      b.addFilters(rnd.nextBoolean() ? WatchCreateRequest.FilterType.NOPUT : WatchCreateRequest.FilterType.NODELETE);
    }
    b.setPrevKv(rnd.nextInt(3) == 0);
    return b.build();
  }

  /**
   * As in etcd, compacting at C removes the tombstones of revision C from the store (HashKV must
   * match etcd's, so the same revisions go), so a watcher that reads revision C from history
   * after the compaction does not see deletions made at C. Those are left out of the comparison.
   */
  private static boolean comparable(Event e, Set<Long> compactions) {
    return e.getType() != Event.EventType.DELETE || !compactions.contains(e.getKv().getModRevision());
  }

  private static void check(Spec s, Map<Long, List<Event>> history, Map<String, KeyValue> prevOf, long finalRev,
      Set<Long> compactions) {
    List<List<Event>> want = new ArrayList<>();
    List<Long> wantRevs = new ArrayList<>();
    for (long rev = Math.max(s.start, 1); rev <= finalRev; rev++) {
      List<Event> evs = history.getOrDefault(rev, List.of());
      List<Event> mine = new ArrayList<>();
      for (Event e : evs) {
        if (s.wants(e) && comparable(e, compactions)) {
          mine.add(e);
        }
      }
      if (!mine.isEmpty()) {
        want.add(mine);
        wantRevs.add(rev);
      }
    }
    // What arrived, by revision: a response may hold several revisions (a catch-up from history),
    // but a revision never spans two responses and revisions only go up.
    List<Long> gotRevs = new ArrayList<>();
    List<List<Event>> gotEvents = new ArrayList<>();
    for (WatchResponse r : s.got) {
      long lastRev = -1;
      for (Event e : r.getEventsList()) {
        if (!comparable(e, compactions)) {
          continue;
        }
        long rev = e.getKv().getModRevision();
        if (rev != lastRev) {
          assertThat(gotRevs.isEmpty() || rev > gotRevs.get(gotRevs.size() - 1))
              .as("watch %s: revision %d after %s (in order, each in one response)", s.req, rev, gotRevs).isTrue();
          gotRevs.add(rev);
          gotEvents.add(new ArrayList<>());
          lastRev = rev;
        }
        gotEvents.get(gotEvents.size() - 1).add(e);
      }
    }
    int n = gotRevs.size();
    if (s.compactedAt == 0) {
      List<Long> missing = new ArrayList<>(wantRevs);
      missing.removeAll(gotRevs);
      List<Long> extra = new ArrayList<>(gotRevs);
      extra.removeAll(wantRevs);
      assertThat(gotRevs).as("watch %s from %d: missing %s, extra %s", s.req, s.start, missing, extra)
          .isEqualTo(wantRevs);
    } else {
      assertThat(n).as("compacted watch got more than its history").isLessThanOrEqualTo(want.size());
      long next = n == 0 ? s.start : gotRevs.get(n - 1) + 1;
      assertThat(next).as("compacted watch %s: it still had %d to read", s.req, next).isLessThan(s.compactedAt);
    }
    for (int i = 0; i < n; i++) {
      assertThat(gotRevs.get(i)).isEqualTo(wantRevs.get(i));
      List<Event> got = new ArrayList<>();
      for (Event e : gotEvents.get(i)) {
        if (e.hasPrevKv()) {
          assertThat(s.req.getPrevKv()).isTrue();
          int sub = history.get(wantRevs.get(i)).indexOf(e.toBuilder().clearPrevKv().build());
          assertThat(e.getPrevKv()).isEqualTo(prevOf.get(wantRevs.get(i) + "/" + sub));
          e = e.toBuilder().clearPrevKv().build();
        }
        got.add(e);
      }
      assertThat(got).as("events of revision %d", wantRevs.get(i)).isEqualTo(want.get(i));
    }
  }
}
