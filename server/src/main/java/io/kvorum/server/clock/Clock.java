package io.kvorum.server.clock;

import java.time.Duration;

/**
 * The member's only source of time. Every time read ({@link #nanos()}, {@link #wallMillis()}) and
 * every timer ({@link #schedule}, {@link #scheduleEvery}) in the server goes through one instance,
 * so that a test can run a member on a {@link FakeClock} and move time by hand.
 *
 * <p>Timer tasks must be short and must not block: they run one at a time on the clock's timer
 * thread ({@link SystemClock}) or on the thread that advances a {@link FakeClock}.
 */
public interface Clock {
  /** Monotonic nanoseconds, for durations and deadlines only (as {@link System#nanoTime()}). */
  long nanos();

  /** Milliseconds since the Unix epoch (as {@link System#currentTimeMillis()}). */
  long wallMillis();

  /** Runs {@code task} once after {@code delay}. */
  Timer schedule(Duration delay, Runnable task);

  /** Runs {@code task} every {@code period}, the first time after one period, at a fixed rate. */
  Timer scheduleEvery(Duration period, Runnable task);

  /** A scheduled task; cancelling one that already ran or was cancelled does nothing. */
  interface Timer {
    void cancel();
  }
}
