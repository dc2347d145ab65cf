package io.kvorum.cli;

import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.GoDuration;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The one list of etcd 3.4 flags Kvorum does not act on, each with what setting it does: a value
 * that asks for something Kvorum does not do either stops the member ({@link Action#REFUSE}, with
 * a message naming the flag and why) or, where refusing would only break etcd's own sample
 * configuration or a setting that changes no answer, is logged as a warning ({@link Action#WARN}).
 * A value that asks for nothing (etcd's default, or an equivalent) passes silently. Every other
 * etcd flag is honoured; {@code docs/flags.md} lists both, and a test checks this list against
 * {@code etcd --help}.
 */
final class UnsupportedFlags {
  /** What a flag set to a value Kvorum cannot honour does. */
  enum Action {
    REFUSE,
    WARN
  }

  /**
   * One unsupported flag.
   *
   * @param flag the flag's name, without dashes
   * @param action what a value outside {@code harmless} does
   * @param harmless the values that ask for nothing Kvorum leaves undone
   * @param reason why, as the message says it
   */
  record Entry(String flag, Action action, Predicate<String> harmless, String reason) {}

  private static final String NO_V2_PROXY = "the v2 proxy is not part of Kvorum, which serves the v3 API only";
  private static final String NO_DISCOVERY = "Kvorum bootstraps from --initial-cluster only (no discovery service, "
      + "no DNS SRV discovery)";
  private static final String BBOLT_BATCHING = "it tunes bbolt's commit batching; Kvorum's RocksDB backend commits "
      + "each applied batch at once, within any bound this sets";

  static final List<Entry> ENTRIES = List.of(
      new Entry("discovery", Action.REFUSE, String::isEmpty, NO_DISCOVERY),
      new Entry("discovery-srv", Action.REFUSE, String::isEmpty, NO_DISCOVERY),
      new Entry("discovery-srv-name", Action.REFUSE, String::isEmpty, NO_DISCOVERY),
      new Entry("discovery-proxy", Action.REFUSE, String::isEmpty, NO_DISCOVERY),
      new Entry("discovery-fallback", Action.WARN, "proxy"::equals,
          "it only applies when --discovery fails, and --discovery is refused"),
      new Entry("proxy", Action.REFUSE, "off"::equals, NO_V2_PROXY),
      new Entry("proxy-failure-wait", Action.REFUSE, number(5000), NO_V2_PROXY),
      new Entry("proxy-refresh-interval", Action.REFUSE, number(30000), NO_V2_PROXY),
      new Entry("proxy-dial-timeout", Action.REFUSE, number(1000), NO_V2_PROXY),
      new Entry("proxy-write-timeout", Action.REFUSE, number(5000), NO_V2_PROXY),
      new Entry("proxy-read-timeout", Action.REFUSE, number(0), NO_V2_PROXY),
      new Entry("experimental-enable-v2v3", Action.REFUSE, String::isEmpty,
          "the v2 API (also emulated over v3) is not served"),
      new Entry("enable-v2", Action.WARN, UnsupportedFlags::isFalse,
          "the v2 API is not served, Kvorum serves v3 only (a warning, not a refusal: etcd's own "
              + "etcd.conf.yml.sample sets it)"),
      new Entry("enable-pprof", Action.WARN, UnsupportedFlags::isFalse,
          "/debug/pprof is Go's profiler and is not served; profile the JVM with jcmd or JDK Flight Recorder"),
      new Entry("enable-grpc-gateway", Action.REFUSE, UnsupportedFlags::isTrue,
          "the JSON gateway is always served on the client URLs"),
      new Entry("unsafe-no-fsync", Action.REFUSE, UnsupportedFlags::isFalse, "Kvorum always fsyncs its WAL"),
      new Entry("backend-batch-interval", Action.WARN, v -> v.isEmpty() || duration(Duration.ZERO).test(v),
          BBOLT_BATCHING),
      new Entry("backend-batch-limit", Action.WARN, number(0), BBOLT_BATCHING),
      new Entry("experimental-backend-bbolt-freelist-type", Action.WARN, "array"::equals,
          "there is no bbolt in Kvorum (RocksDB keeps no freelist)"),
      new Entry("log-package-levels", Action.WARN, String::isEmpty,
          "it names etcd's Go packages (capnslog); use --log-level"),
      new Entry("experimental-enable-lease-checkpoint-persist", Action.WARN, UnsupportedFlags::isTrue,
          "Kvorum always persists the remaining TTL a checkpoint records"),
      new Entry("experimental-peer-skip-client-san-verification", Action.WARN, UnsupportedFlags::isTrue,
          "Kvorum never matches a client certificate's SAN against the connection's address (as if it were true)"));

  /** etcd 2's flags etcd 3.4 still accepts and ignores, with its warning; they take no value. */
  static final Set<String> LEGACY = Set.of("cluster-active-size", "cluster-remove-delay", "cluster-sync-interval",
      "config", "force", "max-result-buffer", "max-retry-attempts", "peer-heartbeat-interval",
      "peer-election-timeout", "retry-interval", "snapshot", "v", "vv");

  private UnsupportedFlags() {}

  /** The entry for {@code flag}, or null when Kvorum honours it. */
  static Entry find(String flag) {
    for (Entry e : ENTRIES) {
      if (e.flag().equals(flag)) {
        return e;
      }
    }
    return null;
  }

  /**
   * Refuses the first value in {@code values} (flag name to raw value) that an entry refuses, and
   * adds a warning for each one an entry only warns about.
   *
   * @throws ConfigException naming the flag, its value and the reason
   */
  static void check(Map<String, String> values, List<String> warnings) {
    for (Entry e : ENTRIES) {
      String v = values.get(e.flag());
      if (v == null || e.harmless().test(v.trim())) {
        continue;
      }
      String what = "--" + e.flag() + "=" + v + " is not supported by Kvorum: " + e.reason();
      if (e.action() == Action.REFUSE) {
        throw new ConfigException(what);
      }
      warnings.add(what + "; ignoring it");
    }
    for (String legacy : LEGACY) {
      if (values.containsKey(legacy)) {
        warnings.add("flag \"-" + legacy + "\" is no longer supported - ignoring.");
      }
    }
  }

  private static Predicate<String> number(long dflt) {
    return v -> {
      try {
        return Long.parseLong(v) == dflt;
      } catch (NumberFormatException e) {
        return false;
      }
    };
  }

  private static Predicate<String> duration(Duration dflt) {
    return v -> {
      try {
        return GoDuration.parse(v).equals(dflt);
      } catch (IllegalArgumentException e) {
        return false;
      }
    };
  }

  private static boolean isFalse(String v) {
    return Set.of("0", "f", "false", "F", "FALSE", "False").contains(v);
  }

  private static boolean isTrue(String v) {
    return Set.of("", "1", "t", "true", "T", "TRUE", "True").contains(v);
  }

}
