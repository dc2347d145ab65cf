package io.kvorum.server.sched;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the calling thread's scheduling priority (Linux: its nice value, per thread, with {@code
 * renice} on its thread id, read from {@code /proc/thread-self/stat}). Raising a nice value needs
 * no privilege. Elsewhere, or when {@code renice} is missing, the thread keeps its priority.
 */
public final class Niceness {
  private static final long RENICE_WAIT_MS = 2000;

  private Niceness() {}

  /** Lowers the calling thread by {@code steps} nice steps (at most to 19); whether it was lowered. */
  public static boolean lowerCurrentThread(int steps) {
    return lower(Path.of("/proc/thread-self"), steps);
  }

  /**
   * Lowers the thread whose /proc task directory is {@code task} ({@code /proc/self/task/<tid>})
   * by {@code steps} nice steps (at most to 19); whether it was lowered.
   */
  public static boolean lower(Path task, int steps) {
    if (steps <= 0) {
      return false;
    }
    String stat;
    try {
      stat = Files.readString(task.resolve("stat"), StandardCharsets.US_ASCII).trim();
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
    String tid = stat.substring(0, stat.indexOf(' '));
    return renice(tid, Math.min(19, niceOf(stat) + steps));
  }

  /** The nice value in a /proc task stat line (field 19, counted after the command in parentheses). */
  static int niceOf(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(f[16]);
  }

  /** Sets thread {@code tid}'s nice value with {@code renice}; whether it succeeded. */
  private static boolean renice(String tid, int nice) {
    try {
      Process p = new ProcessBuilder("renice", "-n", Integer.toString(nice), "-p", tid)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(RENICE_WAIT_MS, TimeUnit.MILLISECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
