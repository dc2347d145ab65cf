package io.kvorum.server.watch;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.server.mvcc.CompactedException;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.RevisionEvents;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

/**
 * The watchers of one member (etcd's {@code watchableStore}), run by one thread.
 *
 * <h2>Flow</h2>
 *
 * <p>The apply thread hands every committed revision to {@link #onCommitted} (the store's revision
 * listener), which only offers it to a bounded queue and never blocks: if the hub falls that far
 * behind, the revisions that did not fit are dropped and every synced watcher goes back to
 * catching up from the store, which has them all. The hub thread then matches each revision's
 * events against the <em>synced</em> watchers (those that have been sent everything up to the
 * hub's revision) through an index by key for single-key watchers and an interval index of the
 * distinct ranges for the others ({@link RangeIndex}), and queues one response per watcher per
 * revision on its stream.
 *
 * <p><em>Unsynced</em> watchers (a start revision in the past, or a stream that was full) catch up
 * from the store's history in bounded chunks: one read serves every unsynced watcher that has
 * room, whole revisions at a time, and each such watcher gets everything the read found for it in
 * one response headed with the hub's revision (etcd's {@code syncWatchers}, at most 1,000
 * revisions a response); a watcher that reaches the hub's revision becomes synced. A watcher
 * whose next revision was compacted gets etcd's compacted response and is removed.
 *
 * <h2>Guarantees</h2>
 *
 * <p>Every watcher receives each matching revision exactly once, in revision order, all events of
 * a revision in one response (etcd's watch guarantees); a synced watcher's response is headed
 * with the revision it reports, a catching-up one's with the hub's revision. A progress response
 * (a header only) is sent only when every event at or below its revision has been queued before
 * it on the stream.
 */
public final class WatchHub implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(WatchHub.class.getName());
  /** Event responses a stream holds before its watchers fall back to history (etcd: 128). */
  public static final int STREAM_EVENT_SLOTS = 128;
  /**
   * Watchers one stream may hold at once; a create beyond it is refused as etcd refuses a create
   * (created and canceled at once, watch id -1) with {@link #TOO_MANY_WATCHERS}. etcd 3.4 has no
   * such limit; this one is far above what clients use (Kubernetes opens a few hundred per stream).
   */
  public static final int WATCHERS_PER_STREAM_MAX = 10_000;
  /** The cancel reason of a create refused by {@link #WATCHERS_PER_STREAM_MAX}. */
  public static final String TOO_MANY_WATCHERS = "etcdserver: too many watchers on the stream";
  /** Revisions queued between the apply thread and the hub before they are dropped. */
  static final int REVISION_QUEUE_MAX = 4096;
  /** Events read from history per catch-up step. */
  static final int SYNC_EVENTS_MAX = 4096;
  /** Distinct revisions sent to an unsynced watcher in one response (etcd's watchBatchMaxRevs). */
  static final int SYNC_REVISIONS_MAX = 1000;
  /**
   * The longest the hub thread sleeps when idle: commands, commits and closing wake it, and it
   * wakes for the next progress notification; this only bounds a missed wake-up.
   */
  private static final long IDLE_PARK_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long IDLE_PARK_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  /** etcd's watch id for responses that belong to no watcher. */
  public static final long NO_WATCH_ID = -1;

  private final KvStore store;
  private final LongFunction<ResponseHeader> headers;
  private final long maxResponseBytes;
  private final LongSupplier clock;
  private final long progressIntervalNanos;
  private final int streamEventSlots;
  private final int watchersPerStreamMax;
  private final java.util.concurrent.atomic.AtomicLong victims = new java.util.concurrent.atomic.AtomicLong();

  private final ArrayBlockingQueue<RevisionEvents> revisions = new ArrayBlockingQueue<>(REVISION_QUEUE_MAX);
  private volatile boolean lostRevisions;
  /** Revisions not queued because the queue was full (the watchers caught them up from the store). */
  private final java.util.concurrent.atomic.LongAdder droppedRevisions = new java.util.concurrent.atomic.LongAdder();
  private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean running = true;

  // Hub thread only.
  /** The last revision the hub has dispatched to synced watchers. */
  private long hubRev;
  private final Map<ByteString, List<Watcher>> keyWatchers = new HashMap<>();
  private final RangeIndex rangeWatchers = new RangeIndex();
  private final Set<Watcher> unsynced = new LinkedHashSet<>();
  private final Set<WatchStream> streams = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  private long nextProgressNanos;
  /** Written by the hub thread only; read by the apply thread to decide whether to wake it. */
  private volatile int watcherCount;
  // Published by the hub thread for the member's metrics.
  private volatile int streamCount;
  private volatile int unsyncedCount;
  /** Events handed to the edge to send (etcd's {@code events_total}); added by the edge's threads. */
  private final java.util.concurrent.atomic.LongAdder eventsSent = new java.util.concurrent.atomic.LongAdder();

  /**
   * @param headers the response header for a revision (cluster, member, term filled in)
   * @param maxResponseBytes the size above which a fragmenting watcher's response is split
   * @param clock monotonic nanoseconds for progress notifications
   * @param progressIntervalNanos how often watchers with {@code progress_notify} hear the revision
   */
  public WatchHub(KvStore store, LongFunction<ResponseHeader> headers, long maxResponseBytes, LongSupplier clock,
      long progressIntervalNanos) {
    this(store, headers, maxResponseBytes, clock, progressIntervalNanos, STREAM_EVENT_SLOTS);
  }

  /** As above, with {@code streamEventSlots} event responses per stream instead of the default. */
  public WatchHub(KvStore store, LongFunction<ResponseHeader> headers, long maxResponseBytes, LongSupplier clock,
      long progressIntervalNanos, int streamEventSlots) {
    this(store, headers, maxResponseBytes, clock, progressIntervalNanos, streamEventSlots, WATCHERS_PER_STREAM_MAX);
  }

  /** As above, with at most {@code watchersPerStreamMax} watchers per stream (tests fill a small one). */
  WatchHub(KvStore store, LongFunction<ResponseHeader> headers, long maxResponseBytes, LongSupplier clock,
      long progressIntervalNanos, int streamEventSlots, int watchersPerStreamMax) {
    this.streamEventSlots = streamEventSlots;
    this.watchersPerStreamMax = watchersPerStreamMax;
    this.store = store;
    this.headers = headers;
    this.maxResponseBytes = maxResponseBytes;
    this.clock = clock;
    this.progressIntervalNanos = progressIntervalNanos;
    this.hubRev = store.currentRevision();
    this.nextProgressNanos = clock.getAsLong() + progressIntervalNanos;
    this.thread = new Thread(this::run, "kvorum-watch");
    this.thread.setDaemon(true);
  }

  /** Registers with the store and starts the hub thread. */
  public WatchHub start() {
    store.addListener(this::onCommitted);
    // Anything committed between construction and registration is caught up from history.
    submit(this::resyncAll);
    thread.start();
    return this;
  }

  /** A new client stream. */
  public WatchStream openStream() {
    WatchStream s = new WatchStream(this);
    submit(() -> {
      streams.add(s);
      streamCount = streams.size();
    });
    return s;
  }

  KvStore store() {
    return store;
  }

  int streamEventSlots() {
    return streamEventSlots;
  }

  /** Revisions queued for the hub thread now. */
  int queuedRevisions() {
    return revisions.size();
  }

  /** Revisions the apply thread could not queue (full queue); watchers caught up from the store. */
  long droppedRevisions() {
    return droppedRevisions.sum();
  }

  /** How many times a watcher's stream was full and it fell back to history (etcd's victims). */
  public long victimCount() {
    return victims.get();
  }

  /** Open watch streams (etcd's {@code watch_stream_total}). */
  public int streamCount() {
    return streamCount;
  }

  /** Watchers of all streams (etcd's {@code watcher_total}). */
  public int watcherCount() {
    return watcherCount;
  }

  /** Watchers catching up from history (etcd's unsynced {@code slow_watcher_total}). */
  public int slowWatcherCount() {
    return unsyncedCount;
  }

  /** Events handed to the client streams so far (etcd's {@code events_total}). */
  public long eventsSent() {
    return eventsSent.sum();
  }

  void sent(int events) {
    eventsSent.add(events);
  }

  long maxResponseBytes() {
    return maxResponseBytes;
  }

  /** A racy one-line picture of the hub, for failure messages. */
  public String describe() {
    return "hubRev=" + hubRev + " storeRev=" + store.currentRevision() + " compactRev=" + store.compactRevision()
        + " queued=" + revisions.size() + " lost=" + lostRevisions + " unsynced=" + unsynced.size()
        + " synced keys=" + keyWatchers.size() + " ranges=" + rangeWatchers.all().size() + " commands=" + commands.size()
        + " thread=" + thread.getState();
  }

  // ---------------------------------------------------------------- inputs (any thread)

  /** The store's revision listener: runs on the apply thread, never blocks. */
  void onCommitted(long rev, List<Event> events) {
    if (lostRevisions) {
      droppedRevisions.increment();
      return;
    }
    if (!revisions.offer(new RevisionEvents(rev, events))) {
      droppedRevisions.increment();
      lostRevisions = true;
    }
    if (watcherCount > 0 || lostRevisions) {
      // Without watchers the hub drains the queue on its idle wake-ups; no need to wake it per write.
      LockSupport.unpark(thread);
    }
  }

  /**
   * The store's content was replaced (a snapshot installed from the leader): every watcher catches
   * up from the new store's history, as after lost revisions.
   */
  public void storeReplaced() {
    lostRevisions = true;
    LockSupport.unpark(thread);
  }

  void submit(Runnable command) {
    commands.add(command);
    LockSupport.unpark(thread);
  }

  void wake() {
    LockSupport.unpark(thread);
  }

  // ---------------------------------------------------------------- hub thread

  private void run() {
    while (running) {
      boolean busy = false;
      try {
        Runnable c;
        while ((c = commands.poll()) != null) {
          c.run();
          busy = true;
        }
        busy |= drainRevisions(1024) > 0;
        if (lostRevisions && revisions.isEmpty()) {
          // Revisions after hubRev were dropped: the store has them; everyone catches up from it.
          long upTo = store.currentRevision();
          resyncAll();
          hubRev = Math.max(hubRev, upTo);
          lostRevisions = false;
          // Anything committed from here on is queued again; what came before upTo is history.
          busy = true;
        }
        busy |= syncStep();
        progressTick();
        unsyncedCount = unsynced.size();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "watch hub step failed", e);
      }
      if (!busy) {
        long untilProgress = nextProgressNanos - clock.getAsLong();
        LockSupport.parkNanos(this, Math.max(IDLE_PARK_MIN_NANOS, Math.min(IDLE_PARK_NANOS, untilProgress)));
      }
    }
  }

  /** Dispatches up to {@code max} queued revisions; returns how many. */
  private int drainRevisions(int max) {
    RevisionEvents re;
    int n = 0;
    while (n < max && (re = revisions.poll()) != null) {
      dispatch(re);
      n++;
    }
    return n;
  }

  /** Moves every synced watcher to unsynced, keeping its next revision. */
  private void resyncAll() {
    List<List<Watcher>> groups = new ArrayList<>(keyWatchers.values());
    groups.addAll(rangeWatchers.all());
    for (List<Watcher> ws : groups) {
      for (Watcher w : ws) {
        w.synced = false;
        w.nextRev = Math.max(w.nextRev, hubRev + 1);
        unsynced.add(w);
      }
    }
    keyWatchers.clear();
    rangeWatchers.clear();
  }

  /** Sends one revision to the synced watchers it concerns. */
  private void dispatch(RevisionEvents re) {
    if (re.revision() <= hubRev) {
      return; // already covered by a resync
    }
    if (re.revision() != hubRev + 1) {
      // A gap can only follow a resync that moved hubRev: catch the synced ones up from history.
      resyncAll();
    }
    hubRev = re.revision();
    if (keyWatchers.isEmpty() && rangeWatchers.isEmpty()) {
      return;
    }
    Map<Watcher, List<Event>> matched = new IdentityHashMap<>();
    for (Event e : re.events()) {
      List<Watcher> ws = keyWatchers.get(e.getKv().getKey());
      if (ws != null) {
        for (Watcher w : ws) {
          if (w.wants(e)) {
            matched.computeIfAbsent(w, x -> new ArrayList<>(2)).add(e);
          }
        }
      }
      rangeWatchers.stab(e.getKv().getKey(), group -> {
        for (Watcher w : group) {
          if (w.wants(e)) {
            matched.computeIfAbsent(w, x -> new ArrayList<>(2)).add(e);
          }
        }
      });
    }
    List<Watcher> victims = null;
    ResponseHeader header = null;
    for (Map.Entry<Watcher, List<Event>> m : matched.entrySet()) {
      Watcher w = m.getKey();
      if (re.revision() < w.nextRev) {
        continue;
      }
      if (header == null) {
        header = headers.apply(re.revision());
      }
      WatchResponse r = WatchResponse.newBuilder().setHeader(header).setWatchId(w.id)
          .addAllEvents(m.getValue()).build();
      if (w.stream.offerEvents(w, r)) {
        w.nextRev = re.revision() + 1;
        w.sentSinceProgress = true;
      } else {
        if (victims == null) {
          victims = new ArrayList<>();
        }
        victims.add(w);
        this.victims.incrementAndGet();
      }
    }
    if (victims != null) {
      for (Watcher w : victims) {
        // Not sent: it catches up from this revision once its stream has room.
        w.nextRev = re.revision();
        unsync(w);
      }
    }
  }

  private void unsync(Watcher w) {
    removeSynced(w);
    w.synced = false;
    unsynced.add(w);
  }

  private void addSynced(Watcher w) {
    w.synced = true;
    if (w.range.isSingle()) {
      keyWatchers.computeIfAbsent(w.range.key(), k -> new ArrayList<>(1)).add(w);
    } else {
      rangeWatchers.add(w);
    }
  }

  private void removeSynced(Watcher w) {
    if (!w.synced) {
      return;
    }
    if (w.range.isSingle()) {
      List<Watcher> ws = keyWatchers.get(w.range.key());
      if (ws != null) {
        ws.remove(w);
        if (ws.isEmpty()) {
          keyWatchers.remove(w.range.key());
        }
      }
    } else {
      rangeWatchers.remove(w);
    }
    w.synced = false;
  }

  /**
   * One bounded catch-up step for unsynced watchers whose streams have room.
   *
   * @return whether it did anything
   */
  private boolean syncStep() {
    if (unsynced.isEmpty()) {
      return false;
    }
    long compactRev = store.compactRevision();
    List<Watcher> ready = new ArrayList<>();
    long minRev = Long.MAX_VALUE;
    boolean did = false;
    for (Iterator<Watcher> it = unsynced.iterator(); it.hasNext();) {
      Watcher w = it.next();
      if (w.nextRev < compactRev) {
        // etcd: the watcher's start is compacted; tell it and drop it.
        it.remove();
        w.canceled = true;
        w.stream.watchers.remove(w.id);
        watcherCount--;
        // etcd's compacted response has no revision in its header.
        w.stream.offerControl(WatchResponse.newBuilder().setHeader(headers.apply(0L)).setWatchId(w.id)
            .setCompactRevision(compactRev).setCanceled(true).build());
        did = true;
        continue;
      }
      if (w.nextRev > hubRev) {
        it.remove();
        addSynced(w);
        did = true;
        continue;
      }
      if (w.stream.hasRoom()) {
        ready.add(w);
        minRev = Math.min(minRev, w.nextRev);
      }
    }
    if (ready.isEmpty()) {
      checkPendingProgress();
      return did;
    }
    List<RevisionEvents> chunk;
    try {
      chunk = store.history(minRev, hubRev, SYNC_EVENTS_MAX);
    } catch (CompactedException e) {
      return true; // the next step sends the compacted responses
    }
    int read = 0;
    for (RevisionEvents re : chunk) {
      read += re.events().size();
    }
    // Under the limit the read reached hubRev; at it, it stopped after a whole revision.
    long readTo = read < SYNC_EVENTS_MAX || chunk.isEmpty() ? hubRev : chunk.get(chunk.size() - 1).revision();
    for (Watcher w : ready) {
      // As etcd's syncWatchers: everything the watcher has missed goes in one response whose
      // header is the hub's revision, up to SYNC_REVISIONS_MAX revisions with events for it.
      List<Event> evs = new ArrayList<>();
      int revisions = 0;
      long next = Math.max(w.nextRev, readTo + 1);
      for (RevisionEvents re : chunk) {
        if (re.revision() < w.nextRev) {
          continue;
        }
        boolean matched = false;
        for (Event e : re.events()) {
          if (w.wants(e)) {
            if (!matched && ++revisions > SYNC_REVISIONS_MAX) {
              break;
            }
            matched = true;
            evs.add(e);
          }
        }
        if (revisions > SYNC_REVISIONS_MAX) {
          next = re.revision();
          break;
        }
      }
      if (!evs.isEmpty()) {
        WatchResponse r = WatchResponse.newBuilder().setHeader(headers.apply(hubRev)).setWatchId(w.id)
            .addAllEvents(evs).build();
        if (!w.stream.offerEvents(w, r)) {
          continue; // no room after all: the same step again later
        }
        w.sentSinceProgress = true;
      }
      w.nextRev = next;
      if (w.nextRev > hubRev) {
        unsynced.remove(w);
        addSynced(w);
      }
    }
    checkPendingProgress();
    return true;
  }

  // ---------------------------------------------------------------- commands (hub thread)

  /** A create refused (by the hub's own checks, or by auth before it): created and canceled at once, id -1. */
  void refuse(WatchStream s, String reason) {
    if (s.closed) {
      return;
    }
    s.offerControl(WatchResponse.newBuilder().setHeader(headers.apply(hubRev)).setWatchId(NO_WATCH_ID)
        .setCreated(true).setCanceled(true).setCancelReason(reason).build());
  }

  void create(WatchStream s, WatchCreateRequest r) {
    if (s.closed) {
      return;
    }
    // Catch up with what is already committed, so "from now" means the store's revision (the
    // queue may hold revisions the hub was not woken for).
    drainRevisions(Integer.MAX_VALUE);
    ByteString key = r.getKey().isEmpty() ? ByteString.copyFrom(new byte[] {0}) : r.getKey();
    ByteString end = r.getRangeEnd();
    String error = null;
    KeyRange range = null;
    if (!end.isEmpty() && !(end.size() == 1 && end.byteAt(0) == 0)
        && ByteString.unsignedLexicographicalComparator().compare(key, end) >= 0) {
      error = "mvcc: watcher range is empty";
    } else {
      range = KeyRange.fromRequest(key, end);
    }
    long id = r.getWatchId();
    if (error == null && s.watchers.size() >= watchersPerStreamMax) {
      error = TOO_MANY_WATCHERS;
    }
    if (error == null) {
      if (id == 0) {
        while (s.watchers.containsKey(s.nextAutoId)) {
          s.nextAutoId++;
        }
        id = s.nextAutoId++;
      } else if (s.watchers.containsKey(id)) {
        error = "mvcc: duplicate watch ID provided on the WatchStream";
      }
    }
    if (error != null) {
      refuse(s, error);
      return;
    }
    long headerRev = hubRev;
    boolean noPut = false;
    boolean noDelete = false;
    for (WatchCreateRequest.FilterType f : r.getFiltersList()) {
      if (f == WatchCreateRequest.FilterType.NOPUT) {
        noPut = true;
      } else if (f == WatchCreateRequest.FilterType.NODELETE) {
        noDelete = true;
      }
    }
    long start = r.getStartRevision() == 0 ? headerRev + 1 : r.getStartRevision();
    Watcher w = new Watcher(s, id, range, noPut, noDelete, r.getPrevKv(), r.getFragment(), r.getProgressNotify(),
        start);
    s.watchers.put(id, w);
    watcherCount++;
    // Created goes first: every event for this watcher is queued after it.
    s.offerControl(WatchResponse.newBuilder().setHeader(headers.apply(headerRev)).setWatchId(id).setCreated(true)
        .build());
    if (start > hubRev) {
      addSynced(w);
    } else {
      unsynced.add(w);
    }
  }

  void cancel(WatchStream s, long id) {
    Watcher w = s.watchers.remove(id);
    if (w == null) {
      return; // etcd answers nothing for an unknown id
    }
    drop(w);
    s.offerControl(WatchResponse.newBuilder().setHeader(headers.apply(hubRev)).setWatchId(id).setCanceled(true)
        .build());
  }

  private void drop(Watcher w) {
    w.canceled = true;
    removeSynced(w);
    unsynced.remove(w);
    watcherCount--;
  }

  void requestProgress(WatchStream s) {
    drainRevisions(Integer.MAX_VALUE);
    s.progressPending = true;
    checkPendingProgress(s);
  }

  void closeStream(WatchStream s) {
    s.closed = true;
    for (Watcher w : s.watchers.values()) {
      drop(w);
    }
    s.watchers.clear();
    streams.remove(s);
    streamCount = streams.size();
  }

  private void checkPendingProgress() {
    for (WatchStream s : streams) {
      if (s.progressPending) {
        checkPendingProgress(s);
      }
    }
  }

  private void checkPendingProgress(WatchStream s) {
    for (Watcher w : s.watchers.values()) {
      if (!w.synced) {
        return; // sent once it caught up: a progress revision must not run ahead of its events
      }
    }
    s.progressPending = false;
    s.offerControl(WatchResponse.newBuilder().setHeader(headers.apply(hubRev)).setWatchId(NO_WATCH_ID).build());
  }

  /** etcd's periodic progress notification for watchers that asked for it and heard nothing. */
  private void progressTick() {
    if (progressIntervalNanos <= 0) {
      return;
    }
    long now = clock.getAsLong();
    if (now - nextProgressNanos < 0) {
      return;
    }
    nextProgressNanos = now + progressIntervalNanos;
    ResponseHeader header = headers.apply(hubRev);
    for (WatchStream s : streams) {
      for (Watcher w : s.watchers.values()) {
        if (!w.progressNotify) {
          continue;
        }
        if (w.synced && !w.sentSinceProgress) {
          s.offerEvents(w, WatchResponse.newBuilder().setHeader(header).setWatchId(w.id).build());
        }
        w.sentSinceProgress = false;
      }
    }
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
