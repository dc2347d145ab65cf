package io.kvorum.cli;

import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.GoDuration;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.config.TlsConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * etcd 3.4's flags, parsed as etcd parses them: {@code --flag value}, {@code --flag=value} and the
 * single-dash forms; bare booleans and {@code --flag=false}; and for every flag not given, the
 * environment variable {@code ETCD_<FLAG_IN_UPPER_SNAKE_CASE>}. With {@code --config-file} (or
 * {@code ETCD_CONFIG_FILE}) the settings come from that YAML file alone ({@link ConfigFile}): as in
 * etcd, the other flags and the environment are then ignored, each ignored flag with a warning.
 *
 * <p>Every etcd flag is accepted, so a script written for etcd runs unchanged, and every one is
 * either honoured ({@link #toConfig}) or on {@link UnsupportedFlags}' list, which refuses (or, for
 * a few, warns about) a value asking for something Kvorum does not do.
 */
public final class EtcdFlags {
  /** A value-taking or boolean flag. */
  private record Flag(String name, boolean bool) {}

  private static final List<Flag> FLAGS = new ArrayList<>();

  private static void str(String... names) {
    for (String n : names) {
      FLAGS.add(new Flag(n, false));
    }
  }

  private static void bool(String... names) {
    for (String n : names) {
      FLAGS.add(new Flag(n, true));
    }
  }

  static {
    str("name", "data-dir", "wal-dir", "snapshot-count", "heartbeat-interval", "election-timeout",
        "listen-peer-urls", "listen-client-urls", "max-snapshots", "max-wals", "quota-backend-bytes",
        "backend-batch-interval", "backend-batch-limit", "max-txn-ops", "max-request-bytes",
        "max-concurrent-streams", "grpc-keepalive-min-time", "grpc-keepalive-interval", "grpc-keepalive-timeout",
        "initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
        "advertise-client-urls", "discovery", "discovery-fallback", "discovery-proxy", "discovery-srv",
        "discovery-srv-name", "auto-compaction-retention", "auto-compaction-mode", "cert-file", "key-file",
        "client-crl-file", "client-cert-allowed-hostname", "trusted-ca-file", "peer-cert-file", "peer-key-file",
        "peer-trusted-ca-file", "peer-cert-allowed-cn", "peer-cert-allowed-hostname", "peer-crl-file",
        "cipher-suites", "cors", "host-whitelist", "auth-token", "bcrypt-cost", "auth-token-ttl", "metrics",
        "listen-metrics-urls", "logger", "log-outputs", "log-output", "log-level", "proxy", "proxy-failure-wait",
        "proxy-refresh-interval", "proxy-dial-timeout", "proxy-write-timeout", "proxy-read-timeout",
        "experimental-corrupt-check-time", "experimental-enable-v2v3", "experimental-backend-bbolt-freelist-type",
        "experimental-compaction-batch-limit", "experimental-watch-progress-notify-interval",
        "experimental-warning-apply-duration", "log-package-levels", "config-file");
    // Flags etcd 3.4.23 takes that its --help does not list.
    bool("enable-grpc-gateway", "experimental-enable-lease-checkpoint-persist", "unsafe-no-fsync", "help", "h");
    UnsupportedFlags.LEGACY.forEach(EtcdFlags::bool);
    bool("initial-election-tick-advance", "strict-reconfig-check", "pre-vote", "enable-v2", "client-cert-auth",
        "auto-tls", "peer-client-cert-auth", "peer-auto-tls", "enable-pprof", "experimental-initial-corrupt-check",
        "experimental-enable-lease-checkpoint", "experimental-peer-skip-client-san-verification",
        "force-new-cluster", "debug", "version");
  }

  /**
   * The outcome of parsing: values by flag name, plus warnings and notices (info lines) to log
   * once logging is up. {@link #toConfig} adds its own warnings to {@code warnings}.
   */
  public record Parsed(Map<String, String> values, List<String> warnings, List<String> notices) {
    public boolean has(String flag) {
      return values.containsKey(flag);
    }

    public String get(String flag) {
      return values.get(flag);
    }
  }

  private EtcdFlags() {}

  /**
   * Parses {@code args} with {@code env} as the fallback.
   *
   * @throws ConfigException with etcd's text for an unknown flag or a missing value
   */
  public static Parsed parse(String[] args, Map<String, String> env) {
    if (args.length > 0 && (args[0].equals("gateway") || args[0].equals("grpc-proxy"))) {
      // etcd's subcommands: a TCP forwarder and a v3 gRPC proxy, neither part of Kvorum.
      throw new ConfigException("'etcd " + args[0] + "' is not supported by Kvorum: point clients at the members' "
          + "client URLs");
    }
    CommandSpec spec = CommandSpec.create();
    for (Flag f : FLAGS) {
      OptionSpec.Builder b = OptionSpec.builder("--" + f.name(), "-" + f.name());
      if (f.bool()) {
        b.type(String.class).arity("0..1").fallbackValue("true");
      } else {
        b.type(String.class).arity("1");
      }
      spec.addOption(b.build());
    }
    CommandLine cl = new CommandLine(spec);
    cl.setUnmatchedArgumentsAllowed(false);
    cl.setPosixClusteredShortOptionsAllowed(false);
    // Go's flag package lets a flag repeat and keeps the last value; etcd's suite relies on it.
    cl.setOverwrittenOptionsAllowed(true);
    ParseResult pr;
    try {
      pr = cl.parseArgs(args);
    } catch (CommandLine.UnmatchedArgumentException e) {
      String bad = e.getUnmatched().isEmpty() ? "?" : e.getUnmatched().get(0);
      String name = bad.replaceFirst("^--?", "").replaceFirst("=.*$", "");
      if (bad.startsWith("-")) {
        throw new ConfigException("flag provided but not defined: -" + name);
      }
      throw new ConfigException("'" + bad + "' is not a valid flag");
    } catch (CommandLine.ParameterException e) {
      throw new ConfigException(e.getMessage());
    }
    Map<String, String> values = new LinkedHashMap<>();
    List<String> warnings = new ArrayList<>();
    List<String> notices = new ArrayList<>();
    for (Flag f : FLAGS) {
      OptionSpec o = pr.matchedOption("--" + f.name());
      if (o != null) {
        values.put(f.name(), o.getValue());
      }
    }
    String configFile = values.containsKey("config-file") ? values.get("config-file") : env.get(envName("config-file"));
    if (configFile != null && !configFile.isEmpty()) {
      Map<String, String> fromFile = ConfigFile.read(Path.of(configFile), warnings);
      notices.add("loaded server configuration, other configuration command line flags and environment variables "
          + "will be ignored if provided (path " + configFile + ")");
      for (String flag : values.keySet()) {
        if (!Set.of("config-file", "version", "help", "h").contains(flag)) {
          warnings.add("flag --" + flag + " is ignored: --config-file " + configFile + " gives the configuration");
        }
      }
      for (String flag : Set.of("version", "help", "h")) {
        if (values.containsKey(flag)) {
          fromFile.put(flag, values.get(flag));
        }
      }
      fromFile.put("config-file", configFile);
      checkSelective(fromFile);
      UnsupportedFlags.check(fromFile, warnings);
      return new Parsed(fromFile, warnings, notices);
    }
    Map<String, String> known = new LinkedHashMap<>();
    for (Flag f : FLAGS) {
      known.put(envName(f.name()), f.name());
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      String key = e.getKey();
      if (!key.startsWith("ETCD_")) {
        continue;
      }
      String flag = known.get(key);
      if (flag == null) {
        warnings.add("unrecognized environment variable " + key + "=" + e.getValue());
      } else if (values.containsKey(flag)) {
        warnings.add("recognized environment variable " + key + ", but unused: shadowed by corresponding flag");
      } else {
        values.put(flag, e.getValue());
      }
    }
    checkSelective(values);
    UnsupportedFlags.check(values, warnings);
    return new Parsed(values, warnings, notices);
  }

  /** True for {@code -h}/{@code --help} (Go's flag package answers both with the usage, and exits 0). */
  static boolean helpAsked(Parsed p) {
    return p.has("help") && !"false".equals(p.get("help")) || p.has("h") && !"false".equals(p.get("h"));
  }

  /** What {@code --help} prints: the flags, and where their support is described. */
  static String usage() {
    StringBuilder sb = new StringBuilder("Usage:\n\n  etcd [flags]\n    Start a Kvorum member (etcd 3.4's flags).\n\n"
        + "  etcd --version\n    Show the version of etcd.\n\n  etcd -h | --help\n    Show this help.\n\n"
        + "  etcd --config-file\n    Path to the server configuration file. Note that if a configuration file is "
        + "provided, other command line flags and environment variables will be ignored.\n\nFlags (each also as "
        + "ETCD_<FLAG> in the environment; docs/flags.md says what each does in Kvorum):\n");
    for (Flag f : FLAGS) {
      if (UnsupportedFlags.LEGACY.contains(f.name()) || f.name().equals("h") || f.name().equals("help")) {
        continue;
      }
      UnsupportedFlags.Entry e = UnsupportedFlags.find(f.name());
      sb.append("  --").append(f.name());
      if (e != null) {
        sb.append("  (not supported: ").append(e.action() == UnsupportedFlags.Action.REFUSE ? "refused" : "warned")
            .append(" unless left at etcd's default)");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  static String envName(String flag) {
    return "ETCD_" + flag.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** Turns parsed flags into a validated configuration. */
  public static ServerConfig toConfig(Parsed p) {
    ServerConfig.Builder b = ServerConfig.builder();
    if (p.has("name")) {
      b.name = p.get("name");
    }
    if (p.has("data-dir") && !p.get("data-dir").isEmpty()) {
      b.dataDir = Path.of(p.get("data-dir"));
    }
    if (p.has("wal-dir") && !p.get("wal-dir").isEmpty()) {
      b.walDir = Path.of(p.get("wal-dir"));
    }
    b.snapshotCount = longFlag(p, "snapshot-count", b.snapshotCount);
    b.heartbeatIntervalMs = longFlag(p, "heartbeat-interval", b.heartbeatIntervalMs);
    b.electionTimeoutMs = longFlag(p, "election-timeout", b.electionTimeoutMs);
    b.listenPeerUrls = urls(p, "listen-peer-urls", b.listenPeerUrls);
    b.listenClientUrls = urls(p, "listen-client-urls", b.listenClientUrls);
    b.initialAdvertisePeerUrls = urls(p, "initial-advertise-peer-urls", b.initialAdvertisePeerUrls);
    b.advertiseClientUrls = urls(p, "advertise-client-urls", b.advertiseClientUrls);
    if (p.has("initial-cluster") && !p.get("initial-cluster").isEmpty()) {
      b.initialCluster = p.get("initial-cluster");
    }
    if (p.has("initial-cluster-state")) {
      String s = p.get("initial-cluster-state");
      b.initialClusterState = switch (s) {
        case "new" -> ServerConfig.ClusterState.NEW;
        case "existing" -> ServerConfig.ClusterState.EXISTING;
        default -> throw new ConfigException("invalid value \"" + s + "\" for flag -initial-cluster-state: "
            + "invalid value \"" + s + "\"");
      };
    }
    if (p.has("initial-cluster-token")) {
      b.initialClusterToken = p.get("initial-cluster-token");
    }
    b.initialElectionTickAdvance = boolFlag(p, "initial-election-tick-advance", b.initialElectionTickAdvance);
    b.strictReconfigCheck = boolFlag(p, "strict-reconfig-check", b.strictReconfigCheck);
    b.preVote = boolFlag(p, "pre-vote", b.preVote);
    b.quotaBackendBytes = longFlag(p, "quota-backend-bytes", b.quotaBackendBytes);
    b.maxRequestBytes = longFlag(p, "max-request-bytes", b.maxRequestBytes);
    b.maxTxnOps = (int) longFlag(p, "max-txn-ops", b.maxTxnOps);
    // Not an etcd flag: the launcher's JVM property (docs/performance.md).
    b.readerNice = Integer.getInteger("kvorum.readerNice", 0);
    b.maxConcurrentStreams = longFlag(p, "max-concurrent-streams", b.maxConcurrentStreams);
    b.grpcKeepAliveMinTime = duration(p, "grpc-keepalive-min-time", b.grpcKeepAliveMinTime);
    b.grpcKeepAliveInterval = duration(p, "grpc-keepalive-interval", b.grpcKeepAliveInterval);
    b.grpcKeepAliveTimeout = duration(p, "grpc-keepalive-timeout", b.grpcKeepAliveTimeout);
    b.clientTls = new TlsConfig(path(p, "cert-file"), path(p, "key-file"), path(p, "trusted-ca-file"),
        boolFlag(p, "client-cert-auth", false), boolFlag(p, "auto-tls", false), path(p, "client-crl-file"),
        null, blankToNull(p.get("client-cert-allowed-hostname")));
    b.peerTls = new TlsConfig(path(p, "peer-cert-file"), path(p, "peer-key-file"), path(p, "peer-trusted-ca-file"),
        boolFlag(p, "peer-client-cert-auth", false), boolFlag(p, "peer-auto-tls", false), path(p, "peer-crl-file"),
        blankToNull(p.get("peer-cert-allowed-cn")), blankToNull(p.get("peer-cert-allowed-hostname")));
    if (p.has("cipher-suites") && !p.get("cipher-suites").isEmpty()) {
      b.cipherSuites = List.of(p.get("cipher-suites").split(","));
    }
    if (p.has("auth-token")) {
      b.authToken = p.get("auth-token");
    }
    b.bcryptCost = (int) longFlag(p, "bcrypt-cost", b.bcryptCost);
    b.authTokenTtlSeconds = longFlag(p, "auth-token-ttl", b.authTokenTtlSeconds);
    if (p.has("logger")) {
      b.logger = p.get("logger");
    }
    boolean debug = boolFlag(p, "debug", false);
    Logging.Settings logs = Logging.resolve(b.logger, p.has("log-level") ? p.get("log-level") : b.logLevel, debug,
        strings(p, "log-outputs"), strings(p, "log-output"), p.warnings());
    if (b.logger.equals("capnslog") && p.has("logger")) {
      p.warnings().add("Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead (Kvorum writes "
          + "zap's JSON lines for either)");
    }
    b.logLevel = logs.level();
    b.logOutputs = logs.outputs();
    if (p.has("metrics")) {
      b.metrics = p.get("metrics");
    }
    b.listenMetricsUrls = urls(p, "listen-metrics-urls", b.listenMetricsUrls);
    b.cors = commaList(p, "cors", b.cors);
    b.hostWhitelist = commaList(p, "host-whitelist", b.hostWhitelist);
    if (p.has("auto-compaction-mode")) {
      b.autoCompactionMode = p.get("auto-compaction-mode");
    }
    if (p.has("auto-compaction-retention")) {
      b.autoCompactionRetention = p.get("auto-compaction-retention");
    }
    b.initialCorruptCheck = boolFlag(p, "experimental-initial-corrupt-check", false);
    b.corruptCheckTime = duration(p, "experimental-corrupt-check-time", b.corruptCheckTime);
    b.enableLeaseCheckpoint = boolFlag(p, "experimental-enable-lease-checkpoint", true);
    b.compactionBatchLimit = (int) longFlag(p, "experimental-compaction-batch-limit", b.compactionBatchLimit);
    b.watchProgressNotifyInterval = duration(p, "experimental-watch-progress-notify-interval",
        b.watchProgressNotifyInterval);
    if (boolFlag(p, "experimental-enable-lease-checkpoint-persist", false) && !b.enableLeaseCheckpoint) {
      throw new ConfigException("setting experimental-enable-lease-checkpoint-persist requires "
          + "experimental-enable-lease-checkpoint");
    }
    b.forceNewCluster = boolFlag(p, "force-new-cluster", false);
    b.maxSnapshots = (int) uintFlag(p, "max-snapshots", b.maxSnapshots, Integer.MAX_VALUE);
    b.maxWals = (int) uintFlag(p, "max-wals", b.maxWals, Integer.MAX_VALUE);
    b.warningApplyDuration = duration(p, "experimental-warning-apply-duration", b.warningApplyDuration);
    ServerConfig cfg = b.build();
    // etcd checks this last; its config file keeps the default advertised URL instead.
    if (!p.has("config-file") && p.has("listen-client-urls") && !p.has("advertise-client-urls")) {
      throw new ConfigException("--advertise-client-urls is required when --listen-client-urls is set explicitly");
    }
    return cfg;
  }

  /** The flags with a fixed set of values (etcd's SelectiveStringValue), checked as etcd parses them. */
  private static void checkSelective(Map<String, String> values) {
    selective(values, "discovery-fallback", "proxy", "exit");
    selective(values, "proxy", "off", "readonly", "on");
  }

  private static void selective(Map<String, String> values, String flag, String... valid) {
    String v = values.get(flag);
    if (v != null && !List.of(valid).contains(v)) {
      throw new ConfigException("invalid value \"" + v + "\" for flag -" + flag + ": invalid value \"" + v + "\"");
    }
  }

  /** A comma-separated list flag (etcd's UniqueStringsValue: sorted, without repeats), or null when not given. */
  private static List<String> strings(Parsed p, String flag) {
    List<String> l = commaList(p, flag, null);
    return l == null ? null : l.stream().distinct().sorted().toList();
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static Path path(Parsed p, String flag) {
    String v = blankToNull(p.get(flag));
    return v == null ? null : Path.of(v);
  }

  /** etcd's comma-separated string sets (blank entries dropped). */
  private static List<String> commaList(Parsed p, String flag, List<String> dflt) {
    if (!p.has(flag)) {
      return dflt;
    }
    return java.util.Arrays.stream(p.get(flag).split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
  }

  private static List<URI> urls(Parsed p, String flag, List<URI> dflt) {
    return p.has(flag) ? ServerConfig.parseUrls(flag, p.get(flag)) : dflt;
  }

  private static long longFlag(Parsed p, String flag, long dflt) {
    if (!p.has(flag)) {
      return dflt;
    }
    String v = p.get(flag);
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException("invalid value \"" + v + "\" for flag -" + flag + ": parse error");
    }
  }

  /** An unsigned flag (Go's uint), up to {@code max}. */
  private static long uintFlag(Parsed p, String flag, long dflt, long max) {
    long v = longFlag(p, flag, dflt);
    if (v < 0 || v > max) {
      throw new ConfigException("invalid value \"" + p.get(flag) + "\" for flag -" + flag + ": parse error");
    }
    return v;
  }

  private static boolean boolFlag(Parsed p, String flag, boolean dflt) {
    if (!p.has(flag)) {
      return dflt;
    }
    String v = p.get(flag).trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "", "1", "t", "true" -> true;
      case "0", "f", "false" -> false;
      default -> throw new ConfigException("invalid boolean value \"" + p.get(flag) + "\" for -" + flag + ": parse error");
    };
  }

  /** Go's duration syntax ({@link GoDuration}) for the few duration flags: 300ms, 10s, 2m, 1h, 1h30m. */
  static Duration duration(Parsed p, String flag, Duration dflt) {
    if (!p.has(flag)) {
      return dflt;
    }
    String v = p.get(flag).trim();
    try {
      return GoDuration.parse(v);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid value \"" + v + "\" for flag -" + flag + ": parse error");
    }
  }
}
