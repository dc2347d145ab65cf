package io.kvorum.server.mvcc;

/**
 * How to read a range.
 *
 * @param limit at most this many key-values are returned; 0 means no limit. {@code count} still
 *     counts every key in the range, and {@code more} tells that some were left out.
 * @param revision read the key space as of this revision; 0 (or less) means the current revision
 * @param countOnly return only the count, no key-values
 * @param keysOnly return key-values without their values
 */
public record RangeOptions(long limit, long revision, boolean countOnly, boolean keysOnly) {
  /** The whole range at the current revision. */
  public static final RangeOptions DEFAULT = new RangeOptions(0, 0, false, false);

  public RangeOptions {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + limit);
    }
  }

  /** These options with {@code limit}. */
  public RangeOptions withLimit(long limit) {
    return new RangeOptions(limit, revision, countOnly, keysOnly);
  }

  /** These options reading at {@code revision}. */
  public RangeOptions atRevision(long revision) {
    return new RangeOptions(limit, revision, countOnly, keysOnly);
  }

  /** These options returning only the count. */
  public RangeOptions countingOnly() {
    return new RangeOptions(limit, revision, true, keysOnly);
  }

  /** These options returning keys without values. */
  public RangeOptions keysOnlyOptions() {
    return new RangeOptions(limit, revision, countOnly, true);
  }
}
