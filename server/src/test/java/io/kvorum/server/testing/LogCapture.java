package io.kvorum.server.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The lines the named loggers write while a test runs (the server logs through
 * {@code System.Logger}, which is {@code java.util.logging} in tests), each as
 * {@code "<logger>: <message>"}, kept until {@link #close()}; at most {@link #LINES_MAX}.
 */
public final class LogCapture implements AutoCloseable {
  /** More lines than a test's refusals log; later lines are dropped. */
  public static final int LINES_MAX = 100_000;
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final List<Logger> loggers = new ArrayList<>();
  private final List<String> lines = new ArrayList<>();
  private final Handler handler = new Handler() {
    private final SimpleFormatter f = new SimpleFormatter();

    @Override
    public void publish(LogRecord r) {
      String line = r.getLoggerName() + ": " + f.formatMessage(r);
      synchronized (lines) {
        if (lines.size() < LINES_MAX) {
          lines.add(line);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  private LogCapture() {}

  /** Captures what the loggers named after {@code classes} (or plain names) write from now on. */
  public static LogCapture of(Object... classesOrNames) {
    LogCapture c = new LogCapture();
    for (Object o : classesOrNames) {
      String name = o instanceof Class<?> k ? k.getName() : o.toString();
      Logger l = Logger.getLogger(name);
      l.addHandler(c.handler);
      c.loggers.add(l);
    }
    return c;
  }

  /** Every line so far. */
  public List<String> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /** The lines so far that contain every one of {@code parts}. */
  public List<String> matching(String... parts) {
    return lines().stream().filter(l -> {
      for (String p : parts) {
        if (!l.contains(p)) {
          return false;
        }
      }
      return true;
    }).toList();
  }

  /** Waits (bounded) for a line containing every one of {@code parts}; returns the first. */
  public String await(String... parts) {
    long deadline = System.nanoTime() + WAIT_NANOS;
    while (true) {
      List<String> m = matching(parts);
      if (!m.isEmpty()) {
        return m.get(0);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no log line containing " + List.of(parts) + " within 30 s; saw " + lines());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  @Override
  public void close() {
    for (Logger l : loggers) {
      l.removeHandler(handler);
    }
  }
}
