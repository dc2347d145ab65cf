package io.kvorum.server.storage;

/** Receives the keys of a key-only scan in key order; returns false to stop the scan. */
@FunctionalInterface
public interface KeyVisitor {
  /**
   * Visits one key. The array is a fresh copy owned by the visitor.
   *
   * @return true to go on to the next key, false to stop
   */
  boolean visit(byte[] key);
}
