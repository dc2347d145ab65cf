package io.kvorum.server.api.http;

import java.util.ArrayDeque;

/**
 * The gateway's share of {@code --max-concurrent-streams}. etcd's gateway relays every JSON call
 * over one HTTP/2 connection to the member, so at most that many calls (watches and keep-alive
 * streams included, for as long as they last) run at once and the rest wait their turn; etcd's
 * e2e tests check both. Kvorum's gateway calls the services in-process and keeps the same limit
 * here: a call starts when it gets a slot and gives it back when it ends.
 */
final class GatewayStreams {
  /** Calls that may wait for a slot; beyond it a call is refused (503) rather than queued. */
  static final int WAITING_MAX = 10_000;

  private final long max;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private long active;

  GatewayStreams(long max) {
    this.max = max <= 0 ? Long.MAX_VALUE : max;
  }

  /**
   * Runs {@code start} now if a slot is free, or later when one frees; false if too many calls
   * already wait.
   */
  boolean acquire(Runnable start) {
    synchronized (this) {
      if (active >= max) {
        if (waiting.size() >= WAITING_MAX) {
          return false;
        }
        waiting.add(start);
        return true;
      }
      active++;
    }
    start.run();
    return true;
  }

  /** Withdraws a call still waiting; false if it already started (it then releases its slot). */
  synchronized boolean withdraw(Runnable start) {
    return waiting.remove(start);
  }

  /** Gives back a started call's slot, to the next waiting call if any. */
  void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        active--;
        return;
      }
    }
    next.run();
  }

  synchronized long active() {
    return active;
  }

  synchronized int waiting() {
    return waiting.size();
  }
}
