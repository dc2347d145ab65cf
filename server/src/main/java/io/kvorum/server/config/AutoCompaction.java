package io.kvorum.server.config;

import java.time.Duration;

/**
 * etcd's {@code --auto-compaction-mode} and {@code --auto-compaction-retention}, parsed as etcd
 * 3.4 parses them ({@code embed.parseCompactionRetention}): a retention that is a non-negative
 * integer counts hours in periodic mode and revisions in revision mode; anything else must be a Go
 * duration (in revision mode its nanoseconds count revisions, as in etcd). A zero retention turns
 * auto-compaction off.
 *
 * @param mode how the leader picks the revision to compact at
 * @param period periodic mode: how much history to keep
 * @param revisions revision mode: how many revisions to keep
 */
public record AutoCompaction(Mode mode, Duration period, long revisions) {
  /** etcd's compactor modes, by their flag names. */
  public enum Mode {
    /** Keeps {@link AutoCompaction#period} of history ({@code v3compactor.Periodic}). */
    PERIODIC("periodic"),
    /** Keeps the last {@link AutoCompaction#revisions} revisions ({@code v3compactor.Revision}). */
    REVISION("revision");

    private final String flag;

    Mode(String flag) {
      this.flag = flag;
    }

    public String flag() {
      return flag;
    }
  }

  /** No auto-compaction (etcd's default retention "0"). */
  public static final AutoCompaction OFF = new AutoCompaction(Mode.PERIODIC, Duration.ZERO, 0);

  private static final long NANOS_PER_HOUR = Duration.ofHours(1).toNanos();

  /** Whether the leader compacts on its own. */
  public boolean enabled() {
    return mode == Mode.PERIODIC ? !period.isZero() : revisions != 0;
  }

  /**
   * Parses the two flags' values.
   *
   * @throws ConfigException with etcd's message for an unknown mode or a retention that is neither
   *     an integer nor a Go duration; and for a negative retention, which etcd 3.4 takes and then
   *     compacts in a busy loop
   */
  public static AutoCompaction parse(String mode, String retention) {
    String r = retention == null || retention.isEmpty() ? "0" : retention;
    Mode m = switch (mode == null ? "" : mode) {
      case "periodic" -> Mode.PERIODIC;
      case "revision" -> Mode.REVISION;
      // etcd's Validate accepts an empty mode; its compactor then refuses any retention but zero.
      case "" -> null;
      default -> throw new ConfigException("unknown auto-compaction-mode \"" + mode + "\"");
    };
    long hours = integer(r);
    long nanos;
    if (hours >= 0) {
      if (m == null) {
        return OFF;
      }
      if (m == Mode.REVISION) {
        return new AutoCompaction(m, Duration.ZERO, hours);
      }
      if (hours > Long.MAX_VALUE / NANOS_PER_HOUR) {
        throw new ConfigException("--auto-compaction-retention " + r + " hours is too long");
      }
      nanos = hours * NANOS_PER_HOUR;
    } else {
      try {
        nanos = GoDuration.parse(r).toNanos();
      } catch (IllegalArgumentException e) {
        throw new ConfigException("error parsing CompactionRetention: " + e.getMessage());
      }
    }
    if (nanos < 0) {
      throw new ConfigException("--auto-compaction-retention must not be negative (set to " + r + ")");
    }
    if (nanos == 0) {
      return OFF;
    }
    if (m == null) {
      throw new ConfigException("unsupported compaction mode ");
    }
    return m == Mode.REVISION ? new AutoCompaction(m, Duration.ZERO, nanos)
        : new AutoCompaction(m, Duration.ofNanos(nanos), 0);
  }

  /** Go's {@code strconv.Atoi} of {@code s}, or -1 when it is not a non-negative integer. */
  private static long integer(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
