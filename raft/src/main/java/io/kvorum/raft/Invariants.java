package io.kvorum.raft;

/**
 * Assertions that stay on in production: a broken raft invariant means the member can no longer be
 * trusted, so it stops loudly instead of corrupting the replicated state.
 */
final class Invariants {
  private Invariants() {}

  static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException("raft invariant violated: " + message);
    }
  }

  static void check(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new IllegalStateException("raft invariant violated: " + String.format(format, args));
    }
  }
}
