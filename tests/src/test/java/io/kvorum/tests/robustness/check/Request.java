package io.kvorum.tests.robustness.check;

import java.util.Objects;

/** What a client asked of one key of etcd's KV. */
public sealed interface Request {
  String key();

  /** A plain put; etcd answers with the revision it created. */
  record Put(String key, String value) implements Request {
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** A single-key range read. */
  record Get(String key) implements Request {
    public Get {
      Objects.requireNonNull(key, "key");
    }
  }

  /** A single-key delete range. */
  record Delete(String key) implements Request {
    public Delete {
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * The txn {@code If mod_revision(key) == expectedModRevision Then Put(key, newValue) Else Get(key)};
   * an expected mod revision of 0 means "the key does not exist", as in etcd.
   */
  record CompareAndSet(String key, long expectedModRevision, String newValue) implements Request {
    public CompareAndSet {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(newValue, "newValue");
      if (expectedModRevision < 0) {
        throw new IllegalArgumentException("expected mod revision is negative: " + expectedModRevision);
      }
    }
  }
}
