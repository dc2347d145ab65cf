package io.kvorum.server.storage;

import java.nio.ByteBuffer;

/** Receives the entries of a whole-bucket pass ({@link ReadView#scanBulk}) in key order. */
@FunctionalInterface
public interface BulkVisitor {
  /**
   * Visits one entry. The key is a fresh copy owned by the visitor; the value is a buffer reused
   * for the next entry, valid only during this call.
   *
   * @return true to go on to the next entry, false to stop
   */
  boolean visit(byte[] key, ByteBuffer value);
}
