package io.kvorum.embedded;

import io.kvorum.server.config.GoDuration;
import io.kvorum.server.config.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The etcd flags an embedded member takes besides what the builder sets ({@code --max-txn-ops 1024},
 * {@code --auth-token=jwt,...}): the ones that tune a member rather than say where it lives. The
 * builder owns names, directories, URLs, the cluster and TLS; a flag for those, or one not listed
 * here, is refused when the cluster is built rather than ignored.
 */
final class EtcdArgs {
  private static final Map<String, BiConsumer<ServerConfig.Builder, String>> FLAGS = Map.ofEntries(
      Map.entry("max-txn-ops", (b, v) -> b.maxTxnOps = Integer.parseInt(v)),
      Map.entry("max-request-bytes", (b, v) -> b.maxRequestBytes = Long.parseLong(v)),
      Map.entry("quota-backend-bytes", (b, v) -> b.quotaBackendBytes = Long.parseLong(v)),
      Map.entry("snapshot-count", (b, v) -> b.snapshotCount = Long.parseLong(v)),
      Map.entry("heartbeat-interval", (b, v) -> b.heartbeatIntervalMs = Long.parseLong(v)),
      Map.entry("election-timeout", (b, v) -> b.electionTimeoutMs = Long.parseLong(v)),
      Map.entry("pre-vote", (b, v) -> b.preVote = bool(v)),
      Map.entry("strict-reconfig-check", (b, v) -> b.strictReconfigCheck = bool(v)),
      Map.entry("auth-token", (b, v) -> b.authToken = v),
      Map.entry("auth-token-ttl", (b, v) -> b.authTokenTtlSeconds = Long.parseLong(v)),
      Map.entry("bcrypt-cost", (b, v) -> b.bcryptCost = Integer.parseInt(v)),
      Map.entry("auto-compaction-mode", (b, v) -> b.autoCompactionMode = v),
      Map.entry("auto-compaction-retention", (b, v) -> b.autoCompactionRetention = v),
      Map.entry("experimental-enable-lease-checkpoint", (b, v) -> b.enableLeaseCheckpoint = bool(v)),
      Map.entry("experimental-compaction-batch-limit", (b, v) -> b.compactionBatchLimit = Integer.parseInt(v)),
      Map.entry("experimental-watch-progress-notify-interval",
          (b, v) -> b.watchProgressNotifyInterval = GoDuration.parse(v)),
      Map.entry("experimental-corrupt-check-time", (b, v) -> b.corruptCheckTime = GoDuration.parse(v)),
      Map.entry("experimental-initial-corrupt-check", (b, v) -> b.initialCorruptCheck = bool(v)));
  /** Flags that need no value when given alone, as Go's flag package reads booleans. */
  private static final List<String> BOOLEANS = List.of("pre-vote", "strict-reconfig-check",
      "experimental-enable-lease-checkpoint", "experimental-initial-corrupt-check");

  private final List<String[]> parsed;

  private EtcdArgs(List<String[]> parsed) {
    this.parsed = parsed;
  }

  static final EtcdArgs NONE = new EtcdArgs(List.of());

  /**
   * Reads {@code --flag value}, {@code --flag=value} (one dash works too) and a boolean flag alone.
   *
   * @throws IllegalArgumentException for a flag the embedded member does not take, or one without its value
   */
  static EtcdArgs parse(List<String> args) {
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("-")) {
        throw new IllegalArgumentException("expected an etcd flag, got \"" + a + "\"");
      }
      String body = a.startsWith("--") ? a.substring(2) : a.substring(1);
      int eq = body.indexOf('=');
      String name = (eq < 0 ? body : body.substring(0, eq)).toLowerCase(Locale.ROOT);
      if (!FLAGS.containsKey(name)) {
        throw new IllegalArgumentException("flag --" + name + " is not supported by an embedded member; supported: "
            + new java.util.TreeSet<>(FLAGS.keySet()));
      }
      String value;
      if (eq >= 0) {
        value = body.substring(eq + 1);
      } else if (BOOLEANS.contains(name) && (i + 1 == args.size() || args.get(i + 1).startsWith("-"))) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw new IllegalArgumentException("flag needs an argument: --" + name);
      }
      out.add(new String[] {name, value});
    }
    // Apply once to a scratch builder so a bad value fails when the cluster is built, not at start.
    EtcdArgs parsed = new EtcdArgs(List.copyOf(out));
    parsed.applyTo(ServerConfig.builder());
    return parsed;
  }

  /** Sets the flags on {@code b}. */
  void applyTo(ServerConfig.Builder b) {
    for (String[] f : parsed) {
      try {
        FLAGS.get(f[0]).accept(b, f[1]);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("invalid value \"" + f[1] + "\" for flag --" + f[0] + ": " + e.getMessage(), e);
      }
    }
  }

  private static boolean bool(String v) {
    switch (v.toLowerCase(Locale.ROOT)) {
      case "1", "t", "true" -> {
        return true;
      }
      case "0", "f", "false" -> {
        return false;
      }
      default -> throw new IllegalArgumentException("parse error");
    }
  }
}
