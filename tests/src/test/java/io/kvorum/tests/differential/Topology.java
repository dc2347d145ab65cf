package io.kvorum.tests.differential;

import java.util.List;

/** The servers a scenario runs on: the same shape and flags on both sides. */
enum Topology {
  /**
   * One member with a small request limit, so that limits and watch fragmentation are reachable
   * with small values, and a short watch progress-notify interval.
   */
  SINGLE(1, List.of("--max-request-bytes", String.valueOf(Topology.MAX_REQUEST_BYTES),
      "--experimental-watch-progress-notify-interval", Topology.PROGRESS_NOTIFY_INTERVAL)),
  /** Three voters with etcd's defaults. */
  CLUSTER(3, List.of()),
  /**
   * One member with a backend quota no write fits in (etcd's bbolt file and Kvorum's logical size
   * are measured differently, but a quota of one byte refuses every write on both).
   */
  QUOTA(1, List.of("--quota-backend-bytes", "1"));

  /** {@code --max-request-bytes} of {@link #SINGLE}. */
  static final int MAX_REQUEST_BYTES = 10 * 1024;
  /** How often {@link #SINGLE} tells idle watchers that asked for it the revision (etcd's default: 10 min). */
  static final String PROGRESS_NOTIFY_INTERVAL = "1s";

  final int members;
  final List<String> flags;

  Topology(int members, List<String> flags) {
    this.members = members;
    this.flags = flags;
  }
}
