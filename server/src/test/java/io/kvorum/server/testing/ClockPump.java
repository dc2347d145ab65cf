package io.kvorum.server.testing;

import io.kvorum.server.clock.FakeClock;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Moves a {@link FakeClock} shared by members on real sockets forward one step per step of real
 * time, so that they elect a leader and exchange heartbeats as with the system clock, until the
 * test {@link #hold() holds} it: from then on time moves only when the test moves it, so what
 * depends on time (lease deadlines, checkpoints, expiry) happens exactly when the test says.
 * Raft needs no ticks to replicate, commit or serve reads, so a held cluster keeps working.
 */
public final class ClockPump implements AutoCloseable {
  private final FakeClock clock;
  private final Thread thread;
  private volatile boolean held;
  private volatile boolean running = true;

  private ClockPump(FakeClock clock, Duration step) {
    this.clock = clock;
    this.thread = new Thread(() -> {
      while (running) {
        LockSupport.parkNanos(step.toNanos());
        if (running && !held) {
          clock.advance(step);
        }
      }
    }, "clock-pump");
    thread.setDaemon(true);
  }

  public static ClockPump start(FakeClock clock, Duration step) {
    ClockPump p = new ClockPump(clock, step);
    p.thread.start();
    return p;
  }

  /** Stops moving the clock; the test moves it from here on. */
  public void hold() {
    held = true;
  }

  /** Moves the clock with real time again (to elect a leader after a member stopped, say). */
  public void resume() {
    held = false;
  }

  public FakeClock clock() {
    return clock;
  }

  @Override
  public void close() {
    running = false;
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
