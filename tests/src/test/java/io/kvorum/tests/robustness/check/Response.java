package io.kvorum.tests.robustness.check;

/**
 * What etcd answered. {@link #revision()} is the response header's revision: for a request that
 * wrote, the revision its write created.
 */
public sealed interface Response {
  long revision();

  /** The answer to {@link Request.Put}: the revision the put created. */
  record Put(long revision) implements Response {}

  /**
   * The answer to {@link Request.Get}: the value seen ({@code null} when the key was absent), its
   * mod revision (0 when absent) and the header revision.
   */
  record Get(String value, long modRevision, long revision) implements Response {
    public Get {
      if ((value == null) != (modRevision == 0)) {
        throw new IllegalArgumentException(
            "an absent key has mod revision 0 and a present one a positive mod revision: " + value + " @" + modRevision);
      }
    }
  }

  /** The answer to {@link Request.Delete}: whether a key was deleted, and the header revision. */
  record Delete(boolean deleted, long revision) implements Response {}

  /** The answer to {@link Request.CompareAndSet}: whether the Then branch ran, and the header revision. */
  record CompareAndSet(boolean succeeded, long revision) implements Response {}
}
