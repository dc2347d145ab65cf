package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import java.util.Comparator;
import java.util.Objects;

/**
 * The keys an operation touches: one key, the half-open interval {@code [key, end)}, or every key
 * from {@code key} up. Keys compare as unsigned bytes, as in etcd.
 */
public final class KeyRange {
  static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();
  private static final ByteString ZERO_BYTE = ByteString.copyFrom(new byte[] {0});

  private final ByteString key;
  /** Null for a single key, empty for no upper bound, else the exclusive upper bound. */
  private final ByteString end;

  private KeyRange(ByteString key, ByteString end) {
    this.key = Objects.requireNonNull(key, "key");
    this.end = end;
  }

  /** Exactly {@code key}. */
  public static KeyRange single(ByteString key) {
    return new KeyRange(key, null);
  }

  /** Keys {@code k} with {@code key <= k < end}; empty if {@code end <= key}. */
  public static KeyRange between(ByteString key, ByteString end) {
    if (end.isEmpty()) {
      throw new IllegalArgumentException("end must not be empty; use atLeast for no upper bound");
    }
    return new KeyRange(key, end);
  }

  /** Keys {@code k >= key}. */
  public static KeyRange atLeast(ByteString key) {
    return new KeyRange(key, ByteString.EMPTY);
  }

  /** Keys that start with {@code prefix} (etcd's {@code --prefix}); all keys for an empty one. */
  public static KeyRange prefix(ByteString prefix) {
    byte[] end = prefix.toByteArray();
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xff) {
        end[i]++;
        return new KeyRange(prefix, ByteString.copyFrom(end, 0, i + 1));
      }
    }
    // Empty or all 0xff: no key is greater than every key with this prefix.
    return atLeast(prefix);
  }

  /**
   * A range from an etcd request's {@code key} and {@code range_end}: an empty end means the key
   * alone, the single byte {@code \0} means every key from {@code key} up, anything else is the
   * exclusive end.
   */
  public static KeyRange fromRequest(ByteString key, ByteString rangeEnd) {
    if (rangeEnd.isEmpty()) {
      return single(key);
    }
    if (rangeEnd.equals(ZERO_BYTE)) {
      return atLeast(key);
    }
    return new KeyRange(key, rangeEnd);
  }

  /** The first key. */
  public ByteString key() {
    return key;
  }

  /** True if this range is one key. */
  public boolean isSingle() {
    return end == null;
  }

  /** True if this range has no upper bound. */
  public boolean isUnbounded() {
    return end != null && end.isEmpty();
  }

  /** The exclusive upper bound; only for a bounded, non-single range. */
  public ByteString end() {
    if (end == null || end.isEmpty()) {
      throw new IllegalStateException("range has no exclusive end");
    }
    return end;
  }

  /** True if {@code k} is in this range. */
  public boolean contains(ByteString k) {
    if (end == null) {
      return key.equals(k);
    }
    return ORDER.compare(k, key) >= 0 && (end.isEmpty() || ORDER.compare(k, end) < 0);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyRange r && key.equals(r.key) && Objects.equals(end, r.end);
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + Objects.hashCode(end);
  }

  @Override
  public String toString() {
    if (end == null) {
      return "[" + key.toStringUtf8() + "]";
    }
    return "[" + key.toStringUtf8() + ", " + (end.isEmpty() ? "+inf" : end.toStringUtf8()) + ")";
  }
}
