package io.kvorum.tests.robustness.check;

import java.util.Objects;

/** One event a watch stream delivered: the key, the revision of the change, its kind and the value put. */
public record WatchEvent(String key, long revision, Type type, String value) {
  public enum Type {
    PUT,
    DELETE
  }

  public WatchEvent {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(type, "type");
    if ((type == Type.PUT) != (value != null)) {
      throw new IllegalArgumentException("a PUT event carries a value and a DELETE event none");
    }
  }
}
