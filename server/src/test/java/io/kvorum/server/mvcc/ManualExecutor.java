package io.kvorum.server.mvcc;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/** An executor that runs tasks only when the test says so, on the test's thread. */
final class ManualExecutor implements Executor {
  /** Bound on tasks run by {@link #runAll}, so a bug cannot loop a test forever. */
  static final int RUN_ALL_TASKS_MAX = 100_000;

  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

  @Override
  public synchronized void execute(Runnable task) {
    tasks.add(task);
  }

  /** Runs the oldest queued task; returns false if there was none. */
  boolean runOne() {
    Runnable t;
    synchronized (this) {
      t = tasks.poll();
    }
    if (t == null) {
      return false;
    }
    t.run();
    return true;
  }

  /** Runs tasks (including ones they queue) until none is left; returns how many ran. */
  int runAll() {
    int n = 0;
    while (runOne()) {
      n++;
      if (n > RUN_ALL_TASKS_MAX) {
        throw new IllegalStateException("more than " + RUN_ALL_TASKS_MAX + " tasks");
      }
    }
    return n;
  }

  synchronized int queued() {
    return tasks.size();
  }
}
