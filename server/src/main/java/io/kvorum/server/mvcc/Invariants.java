package io.kvorum.server.mvcc;

/**
 * Assertions that stay on in production: a broken MVCC invariant means the store no longer matches
 * what the raft log says it should hold, so the member stops loudly instead of serving wrong data.
 */
final class Invariants {
  private Invariants() {}

  static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException("mvcc invariant violated: " + message);
    }
  }

  static void check(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new IllegalStateException("mvcc invariant violated: " + String.format(format, args));
    }
  }
}
