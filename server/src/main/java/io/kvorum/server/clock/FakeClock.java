package io.kvorum.server.clock;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A clock that moves only when told to, for tests and simulations. {@link #advance} runs every
 * timer that falls due, in time order (ties in scheduling order), on the calling thread, with the
 * clock reading each timer's due time while it runs. Thread-safe: any thread may read or schedule.
 */
public final class FakeClock implements Clock {
  /** Timers one {@link #advance} may run, so a task that reschedules itself at zero delay cannot loop forever. */
  public static final int TIMERS_PER_ADVANCE_MAX = 1_000_000;

  private final long wallBaseMillis;
  private final long nanoBase;
  private long now;
  private long seq;
  private final PriorityQueue<Task> tasks = new PriorityQueue<>();

  private final class Task implements Comparable<Task>, Timer {
    long due;
    final long period;
    final long order;
    final Runnable body;

    Task(long due, long period, Runnable body) {
      this.due = due;
      this.period = period;
      this.order = seq++;
      this.body = body;
    }

    @Override
    public int compareTo(Task o) {
      int c = Long.compare(due, o.due);
      return c != 0 ? c : Long.compare(order, o.order);
    }

    @Override
    public void cancel() {
      synchronized (FakeClock.this) {
        tasks.remove(this);
      }
    }
  }

  /** A clock at an arbitrary wall time (2026-01-01) whose nanosecond reading starts away from 0. */
  public FakeClock() {
    this(1_767_225_600_000L);
  }

  public FakeClock(long wallMillis) {
    this.wallBaseMillis = wallMillis;
    this.nanoBase = 1L << 40;
  }

  @Override
  public synchronized long nanos() {
    return nanoBase + now;
  }

  @Override
  public synchronized long wallMillis() {
    return wallBaseMillis + now / 1_000_000;
  }

  @Override
  public synchronized Timer schedule(Duration delay, Runnable task) {
    Task t = new Task(now + Math.max(0, delay.toNanos()), 0, task);
    tasks.add(t);
    return t;
  }

  @Override
  public synchronized Timer scheduleEvery(Duration period, Runnable task) {
    long p = period.toNanos();
    if (p <= 0) {
      throw new IllegalArgumentException("period must be positive: " + period);
    }
    Task t = new Task(now + p, p, task);
    tasks.add(t);
    return t;
  }

  /** Moves time forward by {@code d}, running every timer due on the way. */
  public void advance(Duration d) {
    long target;
    synchronized (this) {
      target = now + d.toNanos();
    }
    for (int ran = 0; ; ran++) {
      Task t;
      synchronized (this) {
        t = tasks.peek();
        if (t == null || t.due > target) {
          now = target;
          return;
        }
        if (ran >= TIMERS_PER_ADVANCE_MAX) {
          throw new IllegalStateException("more than " + TIMERS_PER_ADVANCE_MAX + " timers in one advance");
        }
        tasks.poll();
        now = Math.max(now, t.due);
        if (t.period > 0) {
          t.due += t.period;
          tasks.add(t);
        }
      }
      t.body.run();
    }
  }

  /**
   * Moves time forward by {@code d} at once, as a member paused that long sees it: every one-shot
   * timer that falls due runs (in time order), and every periodic timer that falls due runs once,
   * not once per missed period, and is next due one period after the new time.
   */
  public void jump(Duration d) {
    java.util.List<Task> due = new java.util.ArrayList<>();
    synchronized (this) {
      now += d.toNanos();
      while (!tasks.isEmpty() && tasks.peek().due <= now) {
        due.add(tasks.poll());
      }
      for (Task t : due) {
        if (t.period > 0) {
          t.due = now + t.period;
          tasks.add(t);
        }
      }
    }
    for (Task t : due) {
      t.body.run();
    }
  }

  /** Timers waiting to run. */
  public synchronized int pending() {
    return tasks.size();
  }
}
