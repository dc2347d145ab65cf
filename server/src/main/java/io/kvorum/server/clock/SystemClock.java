package io.kvorum.server.clock;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The real clock: the system's time and one daemon timer thread. A task that throws is logged and
 * does not stop a periodic task from running again (unlike a bare scheduled executor's). Timers
 * scheduled after {@link #close()} never run.
 */
public final class SystemClock implements Clock, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SystemClock.class.getName());
  private final ScheduledThreadPoolExecutor timer;

  public SystemClock(String threadName) {
    timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
    // Cancelled timeouts (most requests finish in time) leave the queue at once.
    timer.setRemoveOnCancelPolicy(true);
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  @Override
  public long nanos() {
    return nanosNow();
  }

  /** The system's monotonic time, for parts that run before a member's clock exists or outside one. */
  public static long nanosNow() {
    return System.nanoTime();
  }

  @Override
  public long wallMillis() {
    return System.currentTimeMillis();
  }

  @Override
  public Timer schedule(Duration delay, Runnable task) {
    try {
      ScheduledFuture<?> f = timer.schedule(() -> safely(task), delay.toNanos(), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return () -> { };
    }
  }

  @Override
  public Timer scheduleEvery(Duration period, Runnable task) {
    long p = period.toNanos();
    try {
      ScheduledFuture<?> f = timer.scheduleAtFixedRate(() -> safely(task), p, p, TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return () -> { };
    }
  }

  private static void safely(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "timer task failed: " + e, e);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
