package io.kvorum.server.watch;

import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.MvccException;
import io.kvorum.server.mvcc.RangeOptions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client watch stream (etcd's {@code serverWatchStream}): many watchers, one ordered queue of
 * responses to send. The API edge feeds it requests and drains it with {@link #poll()} when its
 * transport can take more; the hub fills it.
 *
 * <p><b>Bounded.</b> Event responses take one of the hub's slots per stream ({@link
 * WatchHub#STREAM_EVENT_SLOTS} by default); when
 * they are all taken the hub does not wait: the watcher that did not fit falls back to catching up
 * from history (etcd's victim path), so a slow client never delays writes or other streams, and
 * its memory stays bounded. Control responses (created, canceled, progress) are few and always
 * admitted, so the client hears about its own requests in order.
 */
public final class WatchStream {
  private final WatchHub hub;
  /** Watchers by id (hub thread only). */
  final Map<Long, Watcher> watchers = new HashMap<>();
  /** The next automatic watch id (hub thread only). */
  long nextAutoId;
  /** A stream progress request waits until every watcher is synced (hub thread only). */
  boolean progressPending;
  /** Set by the hub when the stream is closed (hub thread only). */
  boolean closed;

  private final Object lock = new Object();
  // Guarded by lock.
  private final ArrayDeque<Outgoing> queue = new ArrayDeque<>();
  private int eventItems;
  private int controlItems;
  /** Client requests handed to the hub and not yet run by it (or run without an answer yet). */
  private int requestsPending;
  /**
   * The hub runs one of this stream's requests and it is still counted in {@link #requestsPending}:
   * its first answer takes over its place in the backlog, so the backlog never counts it twice.
   */
  private boolean requestRunning;
  private Runnable sendable = () -> { };

  /** A response to send; event responses name their watcher (for prev_kv and fragmenting). */
  private record Outgoing(WatchResponse resp, Watcher watcher) {}

  WatchStream(WatchHub hub) {
    this.hub = hub;
  }

  // ---------------------------------------------------------------- API edge

  /** Called (on any thread) whenever responses are waiting; the edge then drains with {@link #poll}. */
  public void onSendable(Runnable hook) {
    synchronized (lock) {
      this.sendable = hook;
    }
  }

  public void create(WatchCreateRequest r) {
    request(() -> hub.create(this, r));
  }

  /**
   * Answers a create request the member refused before it reached the hub (etcd's permission
   * check): created and canceled at once, watch id -1, with {@code reason}.
   */
  public void refuse(String reason) {
    request(() -> hub.refuse(this, reason));
  }

  public void cancel(long watchId) {
    request(() -> hub.cancel(this, watchId));
  }

  /** etcd's {@code WatchProgressRequest}: a header with watch id -1 once every watcher is synced. */
  public void requestProgress() {
    request(() -> hub.requestProgress(this));
  }

  /**
   * Hands a client request to the hub; it counts in {@link #controlBacklog()} until the hub ran
   * it, and the edge hears (its sendable hook) when it did, answered or not.
   */
  private void request(Runnable command) {
    synchronized (lock) {
      requestsPending++;
    }
    hub.submit(() -> {
      synchronized (lock) {
        requestRunning = true;
      }
      Runnable hook;
      try {
        command.run();
      } finally {
        synchronized (lock) {
          if (requestRunning) {
            requestsPending--;
            requestRunning = false;
          }
          hook = sendable;
        }
      }
      hook.run();
    });
  }

  /** The client went away: drop every watcher. */
  public void close() {
    hub.submit(() -> hub.closeStream(this));
    synchronized (lock) {
      queue.clear();
      eventItems = 0;
      controlItems = 0;
    }
  }

  /**
   * The next responses to send, in order (several when a large one is fragmented); empty when
   * nothing is waiting. Reads previous key-values for watchers that asked for them.
   */
  public List<WatchResponse> poll() {
    Outgoing o;
    boolean freed = false;
    synchronized (lock) {
      o = queue.pollFirst();
      if (o == null) {
        return List.of();
      }
      if (o.watcher != null) {
        freed = eventItems == hub.streamEventSlots();
        eventItems--;
      } else {
        controlItems--;
      }
    }
    if (freed) {
      hub.wake();
    }
    if (o.watcher == null) {
      return List.of(o.resp);
    }
    WatchResponse r = o.resp;
    if (r.getEventsCount() > 0) {
      hub.sent(r.getEventsCount());
    }
    if (Failpoints.ENABLED && r.getEventsCount() > 0) {
      r = skipEvents(r);
      if (r.getEventsCount() == 0) {
        // Every event of it skipped: nothing goes out, as if it had never been queued (the
        // queue is bounded, so this recursion is too).
        return poll();
      }
    }
    if (o.watcher.prevKv && r.getEventsCount() > 0) {
      r = withPrevKvs(r);
    }
    if (o.watcher.fragment) {
      return fragments(r, hub.maxResponseBytes());
    }
    return List.of(r);
  }

  /** The bug switch {@link Failpoint#BUG_WATCH_SKIPS_EVENT}: drops the events whose hit says so. */
  private static WatchResponse skipEvents(WatchResponse r) {
    List<Event> kept = new java.util.ArrayList<>(r.getEventsCount());
    for (Event e : r.getEventsList()) {
      if (!Failpoints.on(Failpoint.BUG_WATCH_SKIPS_EVENT)) {
        kept.add(e);
      }
    }
    return kept.size() == r.getEventsCount() ? r : r.toBuilder().clearEvents().addAllEvents(kept).build();
  }

  /**
   * Client requests the hub has not run yet plus control responses waiting to be sent. The API
   * edge stops reading requests while this is high, which bounds both the hub's commands and the
   * queue: control responses only answer the client's own requests.
   */
  public int controlBacklog() {
    synchronized (lock) {
      return requestsPending + controlItems;
    }
  }

  /** Whether responses are waiting. */
  public boolean hasPending() {
    synchronized (lock) {
      return !queue.isEmpty();
    }
  }

  // ---------------------------------------------------------------- hub side

  /** Queues an event response; false (nothing queued) when the event slots are all taken. */
  boolean offerEvents(Watcher w, WatchResponse r) {
    Runnable hook;
    synchronized (lock) {
      if (eventItems >= hub.streamEventSlots()) {
        return false;
      }
      eventItems++;
      queue.addLast(new Outgoing(r, w));
      hook = sendable;
    }
    hook.run();
    return true;
  }

  /** Whether an event response would fit now. */
  boolean hasRoom() {
    synchronized (lock) {
      return eventItems < hub.streamEventSlots();
    }
  }

  /** Queues a control response (created, canceled, compacted, progress); always admitted. */
  void offerControl(WatchResponse r) {
    Runnable hook;
    synchronized (lock) {
      queue.addLast(new Outgoing(r, null));
      controlItems++;
      if (requestRunning) {
        requestsPending--;
        requestRunning = false;
      }
      hook = sendable;
    }
    hook.run();
  }

  /** etcd attaches the previous key-value to every event except a key's creation. */
  private WatchResponse withPrevKvs(WatchResponse r) {
    WatchResponse.Builder b = r.toBuilder();
    for (int i = 0; i < b.getEventsCount(); i++) {
      Event e = b.getEvents(i);
      KeyValue kv = e.getKv();
      if (e.getType() == Event.EventType.PUT && kv.getCreateRevision() == kv.getModRevision()) {
        continue;
      }
      try {
        List<KeyValue> prev = hub.store().range(KeyRange.single(kv.getKey()),
            RangeOptions.DEFAULT.atRevision(kv.getModRevision() - 1)).kvs();
        if (!prev.isEmpty()) {
          b.setEvents(i, e.toBuilder().setPrevKv(prev.get(0)));
        }
      } catch (MvccException ex) {
        // Compacted meanwhile: etcd sends the event without it.
      }
    }
    return b.build();
  }

  /** etcd's {@code sendFragments}: split a response over the size limit, one event at least per part. */
  static List<WatchResponse> fragments(WatchResponse r, long maxBytes) {
    if (r.getSerializedSize() < maxBytes || r.getEventsCount() < 2) {
      return List.of(r);
    }
    List<WatchResponse> out = new ArrayList<>();
    WatchResponse.Builder cur = r.toBuilder().clearEvents().setFragment(true);
    long size = cur.build().getSerializedSize();
    for (Event e : r.getEventsList()) {
      long es = com.google.protobuf.CodedOutputStream.computeMessageSize(11, e);
      if (cur.getEventsCount() > 0 && size + es >= maxBytes) {
        out.add(cur.build());
        cur = r.toBuilder().clearEvents().setFragment(true);
        size = cur.build().getSerializedSize();
      }
      cur.addEvents(e);
      size += es;
    }
    out.add(cur.setFragment(false).build());
    return out;
  }
}
