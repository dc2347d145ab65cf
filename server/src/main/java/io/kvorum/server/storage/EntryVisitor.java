package io.kvorum.server.storage;

/** Receives the entries of a scan in key order; returns false to stop the scan. */
@FunctionalInterface
public interface EntryVisitor {
  /**
   * Visits one entry. The arrays are fresh copies owned by the visitor.
   *
   * @return true to go on to the next entry, false to stop
   */
  boolean visit(byte[] key, byte[] value);
}
