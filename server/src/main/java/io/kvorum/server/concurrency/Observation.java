package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import java.util.ArrayDeque;

/**
 * One Observe stream: etcd's {@code Election.Observe} ({@code clientv3/concurrency/election.go})
 * for the caller, one {@link LeaderResponse} per leader and per change of the leader's value.
 *
 * <h2>Steps, in a loop</h2>
 *
 * <ol>
 *   <li>Look up the leader (the oldest key under the prefix). With none, watch the prefix from the
 *       look's revision for the first put, which becomes the leader, its header's revision the
 *       put's.
 *   <li>Send the leader, then watch its key from the next revision: each put is sent (headed as
 *       its watch response is), until the key is deleted; then look again.
 * </ol>
 *
 * <p>A failed look, or a watch whose start was compacted away, ends the observation normally: etcd
 * then ends the stream with OK.
 *
 * <h2>Flow control</h2>
 *
 * <p>At most {@link #READY_MAX} responses wait for the edge to {@link #poll} them; while they do, the
 * watch's responses stay in the hub's bounded stream (from which a watcher that falls behind
 * catches up later), and a watch response is worked through one event at a time. The {@code
 * sendable} hook runs when responses wait or the observation ended, on the thread that found them
 * (the hub's, a reader's, or the one calling {@link #poll}, possibly from within {@code poll}), never
 * under this object's lock; it must not block.
 */
public final class Observation implements AutoCloseable {
  /** Leader responses waiting for the client before the observation stops reading its watch. */
  static final int READY_MAX = 16;

  private enum State {
    /** A look is in flight. */
    LOOKING,
    /** Watching the prefix for a first put. */
    AWAITING_LEADER,
    /** Watching the leader's key. */
    FOLLOWING,
    ENDED
  }

  private final MemberClient client;
  private final ByteString prefix;
  private final Runnable sendable;
  // Guarded by this.
  private final ArrayDeque<LeaderResponse> ready = new ArrayDeque<>();
  private State state = State.LOOKING;
  private KeyWatch watch;
  /** The watch response being worked through, and the index of its next event. */
  private WatchResponse current;
  private int next;
  /** The leader's key was deleted: a look starts once out of the lock. */
  private boolean lookPending;
  private boolean closed;

  Observation(MemberClient client, ByteString prefix, Runnable sendable) {
    this.client = client;
    this.prefix = prefix;
    this.sendable = sendable;
  }

  void start() {
    look();
  }

  private void look() {
    client.range(ElectionKeys.oldest(prefix)).whenComplete((r, err) -> {
      synchronized (this) {
        if (closed || state != State.LOOKING) {
          return;
        }
        if (err != null) {
          end();
        } else {
          looked(r);
        }
      }
      sendable.run();
    });
  }

  /** Called under the lock. */
  private void looked(RangeResponse r) {
    if (r.getKvsCount() == 0) {
      state = State.AWAITING_LEADER;
      watch = client.watch(prefix, ElectionKeys.prefixEnd(prefix), r.getHeader().getRevision(), this::onWatch);
      return;
    }
    follow(r.getHeader(), r.getKvs(0));
  }

  /** Sends {@code kv} as the leader and watches its key from the next revision (under the lock). */
  private void follow(ResponseHeader header, KeyValue kv) {
    ready.add(LeaderResponse.newBuilder().setHeader(header).setKv(kv).build());
    state = State.FOLLOWING;
    watch = client.watch(kv.getKey(), ByteString.EMPTY, header.getRevision() + 1, this::onWatch);
  }

  /** The hub has responses for {@code w} (on its thread). */
  private void onWatch(KeyWatch w) {
    boolean changed;
    boolean lookNow;
    synchronized (this) {
      if (w != watch) {
        return;
      }
      changed = fill();
      lookNow = takeLook();
    }
    if (lookNow) {
      look();
    }
    if (changed) {
      sendable.run();
    }
  }

  /**
   * Works through the watch's responses while fewer than {@link #READY_MAX} responses wait (under
   * the lock); true if something became ready or the observation ended.
   */
  private boolean fill() {
    boolean changed = false;
    while (!closed && watch != null && ready.size() < READY_MAX) {
      if (current == null) {
        current = watch.poll();
        next = 0;
        if (current == null) {
          break;
        }
        if (current.getCanceled()) {
          end();
          return true;
        }
      }
      if (next == current.getEventsCount()) {
        current = null;
        continue;
      }
      Event e = current.getEvents(next++);
      if (state == State.AWAITING_LEADER) {
        if (e.getType() == Event.EventType.PUT) {
          // The first put leads; its header says the put's revision (a response may hold several).
          ResponseHeader h = current.getHeader().toBuilder().setRevision(e.getKv().getModRevision()).build();
          stopWatching();
          follow(h, e.getKv());
          changed = true;
        }
      } else if (e.getType() == Event.EventType.DELETE) {
        // The leader is gone: look again, once out of the lock.
        stopWatching();
        state = State.LOOKING;
        lookPending = true;
        return changed;
      } else {
        ready.add(LeaderResponse.newBuilder().setHeader(current.getHeader()).setKv(e.getKv()).build());
        changed = true;
      }
    }
    return changed;
  }

  /** Whether a look is due (under the lock); the caller starts it once out of the lock. */
  private boolean takeLook() {
    boolean due = lookPending;
    lookPending = false;
    return due;
  }

  private void stopWatching() {
    current = null;
    if (watch != null) {
      watch.close();
      watch = null;
    }
  }

  /** Ends the observation: what is ready is still sent, then the stream ends (under the lock). */
  private void end() {
    state = State.ENDED;
    stopWatching();
  }

  /** The next response to send, or null; reads further watch responses as room frees up. */
  public LeaderResponse poll() {
    LeaderResponse r;
    boolean lookNow;
    synchronized (this) {
      r = ready.poll();
      if (r != null) {
        fill();
      }
      lookNow = takeLook();
    }
    if (lookNow) {
      look();
    }
    return r;
  }

  /** Whether the observation ended and everything it had was taken: the stream ends (OK). */
  public synchronized boolean finished() {
    return state == State.ENDED && ready.isEmpty();
  }

  /** The client went away: drops the watch at once. */
  @Override
  public synchronized void close() {
    closed = true;
    ready.clear();
    end();
  }
}
