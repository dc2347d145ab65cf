package io.kvorum.server.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything a member is started with, typed and validated. Build with {@link Builder} (whose
 * fields hold etcd 3.4's defaults) and {@link Builder#build()}, which checks every value the way
 * etcd's {@code embed.Config.Validate} does and fails with etcd's message.
 */
public final class ServerConfig {
  /** etcd's request size limit: 1.5 MiB. */
  public static final long MAX_REQUEST_BYTES_DEFAULT = 1_572_864;
  public static final int MAX_TXN_OPS_DEFAULT = 128;
  /** etcd's default backend quota (2 GiB) applies when the flag is 0. */
  public static final long QUOTA_BACKEND_BYTES_DEFAULT = 2L * 1024 * 1024 * 1024;
  /** etcd's default {@code --experimental-compaction-batch-limit}, used when the flag is 0. */
  public static final int COMPACTION_BATCH_LIMIT_DEFAULT = 1000;

  /** Whether a member founds a cluster or joins an existing one. */
  public enum ClusterState {
    NEW,
    EXISTING
  }

  public final String name;
  public final Path dataDir;
  /** {@code --wal-dir}: the WAL's own directory, or null for {@code member/wal} in the data dir. */
  public final Path walDir;
  public final long snapshotCount;
  public final Duration heartbeatInterval;
  public final Duration electionTimeout;
  public final List<URI> listenPeerUrls;
  public final List<URI> listenClientUrls;
  public final List<URI> initialAdvertisePeerUrls;
  public final List<URI> advertiseClientUrls;
  /** Member name to its peer URLs, in flag order. */
  public final Map<String, List<URI>> initialCluster;
  public final ClusterState initialClusterState;
  public final String initialClusterToken;
  public final boolean strictReconfigCheck;
  public final boolean preVote;
  /** The backend quota in bytes (of the logical size, see {@code apply.BackendQuota}); negative: none. */
  public final long quotaBackendBytes;
  public final long maxRequestBytes;
  public final int maxTxnOps;
  /** Nice steps the reader threads run below the write path (Linux); 0 keeps their priority. */
  public final int readerNice;
  public final long maxConcurrentStreams;
  public final TlsConfig clientTls;
  public final TlsConfig peerTls;
  public final List<String> cipherSuites;
  public final String authToken;
  public final int bcryptCost;
  public final Duration authTokenTtl;
  public final String logLevel;
  public final List<String> logOutputs;
  public final List<URI> listenMetricsUrls;
  /** {@code --cors}: origins the HTTP side accepts ({@code *}, or empty, for any). */
  public final List<String> cors;
  /** {@code --host-whitelist}: Host headers plain-HTTP requests may carry ({@code *}, or empty, for any). */
  public final List<String> hostWhitelist;
  public final String autoCompactionMode;
  public final String autoCompactionRetention;
  /** The two flags above, parsed. */
  public final AutoCompaction autoCompaction;
  public final boolean initialCorruptCheck;
  public final Duration corruptCheckTime;
  public final boolean enableLeaseCheckpoint;
  public final int compactionBatchLimit;
  public final Duration watchProgressNotifyInterval;
  /** How often the leader checkpoints the remaining TTL of long leases (etcd's 5 minutes). */
  public final Duration leaseCheckpointInterval;
  /** {@code --force-new-cluster}: on restart, make this member a one-member cluster of its own data. */
  public final boolean forceNewCluster;
  /** {@code --initial-election-tick-advance}: skip most of the first election timeout at start. */
  public final boolean initialElectionTickAdvance;
  /** {@code --grpc-keepalive-min-time}: the shortest interval a client may ping the client server at (0: gRPC's). */
  public final Duration grpcKeepAliveMinTime;
  /** {@code --grpc-keepalive-interval}: how often the client server pings an idle client (0: gRPC's default). */
  public final Duration grpcKeepAliveInterval;
  /** {@code --grpc-keepalive-timeout}: how long the client server waits for a ping's answer (0: gRPC's default). */
  public final Duration grpcKeepAliveTimeout;
  /** {@code --logger}: {@code zap} or {@code capnslog} (both written as zap's JSON lines). */
  public final String logger;
  /** {@code --max-snapshots}: snapshot files kept; 0 keeps all. */
  public final int maxSnapshots;
  /** {@code --max-wals}: WAL segments kept once a snapshot covers them; 0 keeps all. */
  public final int maxWals;
  /** {@code --experimental-warning-apply-duration}: an apply taking longer is logged. */
  public final Duration warningApplyDuration;
  /** {@code --metrics}: {@code basic} or {@code extensive}. */
  public final String metrics;
  /**
   * The member's clock, for every timer and time read; null for the system's (a timer thread the
   * member owns). Tests inject a {@link io.kvorum.server.clock.FakeClock}.
   */
  public final io.kvorum.server.clock.Clock clock;

  private ServerConfig(Builder b, Map<String, List<URI>> cluster) {
    name = b.name;
    dataDir = b.dataDir;
    walDir = b.walDir;
    snapshotCount = b.snapshotCount;
    heartbeatInterval = Duration.ofMillis(b.heartbeatIntervalMs);
    electionTimeout = Duration.ofMillis(b.electionTimeoutMs);
    listenPeerUrls = List.copyOf(b.listenPeerUrls);
    listenClientUrls = List.copyOf(b.listenClientUrls);
    initialAdvertisePeerUrls = List.copyOf(b.initialAdvertisePeerUrls);
    advertiseClientUrls = List.copyOf(b.advertiseClientUrls);
    initialCluster = Collections.unmodifiableMap(cluster);
    initialClusterState = b.initialClusterState;
    initialClusterToken = b.initialClusterToken;
    strictReconfigCheck = b.strictReconfigCheck;
    preVote = b.preVote;
    quotaBackendBytes = b.quotaBackendBytes == 0 ? QUOTA_BACKEND_BYTES_DEFAULT : b.quotaBackendBytes;
    maxRequestBytes = b.maxRequestBytes;
    maxTxnOps = b.maxTxnOps;
    readerNice = b.readerNice;
    maxConcurrentStreams = b.maxConcurrentStreams;
    clientTls = b.clientTls;
    peerTls = b.peerTls;
    cipherSuites = List.copyOf(b.cipherSuites);
    authToken = b.authToken;
    bcryptCost = b.bcryptCost;
    authTokenTtl = Duration.ofSeconds(b.authTokenTtlSeconds);
    logLevel = b.logLevel;
    logOutputs = List.copyOf(b.logOutputs);
    listenMetricsUrls = List.copyOf(b.listenMetricsUrls);
    cors = List.copyOf(b.cors);
    hostWhitelist = List.copyOf(b.hostWhitelist);
    autoCompactionMode = b.autoCompactionMode;
    autoCompactionRetention = b.autoCompactionRetention;
    autoCompaction = AutoCompaction.parse(b.autoCompactionMode, b.autoCompactionRetention);
    initialCorruptCheck = b.initialCorruptCheck;
    corruptCheckTime = b.corruptCheckTime;
    enableLeaseCheckpoint = b.enableLeaseCheckpoint;
    compactionBatchLimit = b.compactionBatchLimit == 0 ? COMPACTION_BATCH_LIMIT_DEFAULT : b.compactionBatchLimit;
    watchProgressNotifyInterval = b.watchProgressNotifyInterval;
    leaseCheckpointInterval = b.leaseCheckpointInterval;
    forceNewCluster = b.forceNewCluster;
    initialElectionTickAdvance = b.initialElectionTickAdvance;
    grpcKeepAliveMinTime = b.grpcKeepAliveMinTime;
    grpcKeepAliveInterval = b.grpcKeepAliveInterval;
    grpcKeepAliveTimeout = b.grpcKeepAliveTimeout;
    logger = b.logger;
    maxSnapshots = b.maxSnapshots;
    maxWals = b.maxWals;
    warningApplyDuration = b.warningApplyDuration;
    metrics = b.metrics;
    clock = b.clock;
  }

  /** Election timeout in heartbeat ticks, as etcd computes it. */
  public int electionTicks() {
    return (int) (electionTimeout.toMillis() / heartbeatInterval.toMillis());
  }

  /** The member directory, where etcd keeps {@code snap/} and {@code wal/}. */
  public Path memberDir() {
    return dataDir.resolve("member");
  }

  /** The WAL's directory: {@code --wal-dir}, or {@code member/wal} in the data dir (etcd's {@code WALDir()}). */
  public Path walDirectory() {
    return walDir != null ? walDir : memberDir().resolve("wal");
  }

  /** This member's peer URLs as listed in {@code --initial-cluster}. */
  public List<URI> selfPeerUrls() {
    List<URI> u = initialCluster.get(name);
    return u == null ? initialAdvertisePeerUrls : u;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Mutable holder of the raw settings, preset to etcd 3.4's defaults. */
  public static final class Builder {
    public String name = "default";
    public Path dataDir;
    public Path walDir;
    public long snapshotCount = 100_000;
    public long heartbeatIntervalMs = 100;
    public long electionTimeoutMs = 1000;
    public List<URI> listenPeerUrls = List.of(URI.create("http://localhost:2380"));
    public List<URI> listenClientUrls = List.of(URI.create("http://localhost:2379"));
    public List<URI> initialAdvertisePeerUrls = List.of(URI.create("http://localhost:2380"));
    public List<URI> advertiseClientUrls = List.of(URI.create("http://localhost:2379"));
    /** Raw {@code --initial-cluster}; null means "name=initial-advertise-peer-urls". */
    public String initialCluster;
    public ClusterState initialClusterState = ClusterState.NEW;
    public String initialClusterToken = "etcd-cluster";
    public boolean strictReconfigCheck = true;
    public boolean preVote = true;
    /** 0: etcd's default (2 GiB); negative: no quota. */
    public long quotaBackendBytes;
    public long maxRequestBytes = MAX_REQUEST_BYTES_DEFAULT;
    public int maxTxnOps = MAX_TXN_OPS_DEFAULT;
    public int readerNice;
    public long maxConcurrentStreams = 0xFFFF_FFFFL;
    public TlsConfig clientTls = TlsConfig.NONE;
    public TlsConfig peerTls = TlsConfig.NONE;
    public List<String> cipherSuites = List.of();
    public String authToken = "simple";
    public int bcryptCost = 10;
    public long authTokenTtlSeconds = 300;
    public String logLevel = "info";
    public List<String> logOutputs = List.of("default");
    public List<URI> listenMetricsUrls = List.of();
    public List<String> cors = List.of("*");
    public List<String> hostWhitelist = List.of("*");
    public String autoCompactionMode = "periodic";
    public String autoCompactionRetention = "0";
    public boolean initialCorruptCheck;
    public Duration corruptCheckTime = Duration.ZERO;
    /** On by default in Kvorum (etcd 3.4 defaults it off): leader changes must not reset long leases. */
    public boolean enableLeaseCheckpoint = true;
    /** 0: etcd's default (1,000). */
    public int compactionBatchLimit = COMPACTION_BATCH_LIMIT_DEFAULT;
    public Duration watchProgressNotifyInterval = Duration.ofMinutes(10);
    public Duration leaseCheckpointInterval = Duration.ofMinutes(5);
    public boolean forceNewCluster;
    public boolean initialElectionTickAdvance = true;
    public Duration grpcKeepAliveMinTime = Duration.ofSeconds(5);
    public Duration grpcKeepAliveInterval = Duration.ofHours(2);
    public Duration grpcKeepAliveTimeout = Duration.ofSeconds(20);
    public String logger = "capnslog";
    public int maxSnapshots = 5;
    public int maxWals = 5;
    public Duration warningApplyDuration = Duration.ofMillis(100);
    public String metrics = "basic";
    public io.kvorum.server.clock.Clock clock;

    public ServerConfig build() {
      if (dataDir == null) {
        dataDir = Path.of(name + ".etcd");
      }
      if (heartbeatIntervalMs <= 0) {
        throw new ConfigException("--heartbeat-interval must be >0 (set to " + heartbeatIntervalMs + "ms)");
      }
      if (electionTimeoutMs <= 0) {
        throw new ConfigException("--election-timeout must be >0 (set to " + electionTimeoutMs + "ms)");
      }
      if (5 * heartbeatIntervalMs > electionTimeoutMs) {
        throw new ConfigException("--election-timeout[" + electionTimeoutMs
            + "ms] should be at least as 5 times as --heartbeat-interval[" + heartbeatIntervalMs + "ms]");
      }
      if (electionTimeoutMs > 50_000) {
        throw new ConfigException("--election-timeout[" + electionTimeoutMs + "ms] is too long, and should be set less than 50000ms");
      }
      if (maxRequestBytes <= 0 || maxTxnOps <= 0) {
        throw new ConfigException("--max-request-bytes and --max-txn-ops must be > 0");
      }
      if (snapshotCount <= 0) {
        throw new ConfigException("--snapshot-count must be > 0");
      }
      // etcd 3.4 takes both and then never finishes a compaction, or checks hashes in a busy loop.
      if (compactionBatchLimit < 0) {
        throw new ConfigException("--experimental-compaction-batch-limit must be >= 0 (set to "
            + compactionBatchLimit + ")");
      }
      if (corruptCheckTime.isNegative()) {
        throw new ConfigException("--experimental-corrupt-check-time must be >= 0 (set to "
            + corruptCheckTime.toMillis() + "ms)");
      }
      for (List<URI> urls : List.of(listenPeerUrls, listenClientUrls, initialAdvertisePeerUrls, advertiseClientUrls)) {
        for (URI u : urls) {
          checkUrl(u);
        }
      }
      for (List<URI> urls : List.of(listenPeerUrls, listenClientUrls, listenMetricsUrls)) {
        checkBindUrls(urls);
      }
      checkHostUrls("--initial-advertise-peer-urls", initialAdvertisePeerUrls);
      checkHostUrls("--advertise-client-urls", advertiseClientUrls);
      Map<String, List<URI>> cluster = parseCluster(initialCluster != null ? initialCluster
          : name + "=" + join(initialAdvertisePeerUrls));
      if (initialClusterState == ClusterState.NEW || cluster.containsKey(name)) {
        List<URI> self = cluster.get(name);
        if (self == null) {
          throw new ConfigException("couldn't find local name \"" + name + "\" in the initial cluster configuration");
        }
        Set<String> advertised = new TreeSet<>();
        initialAdvertisePeerUrls.forEach(u -> advertised.add(canonical(u)));
        Set<String> listed = new TreeSet<>();
        self.forEach(u -> listed.add(canonical(u)));
        if (!advertised.equals(listed)) {
          throw new ConfigException("--initial-cluster has " + name + "=" + join(self)
              + " but missing from --initial-advertise-peer-urls=" + join(initialAdvertisePeerUrls));
        }
      }
      return new ServerConfig(this, cluster);
    }

    private static void checkUrl(URI u) {
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (!Set.of("http", "https", "unix", "unixs").contains(scheme)) {
        throw new ConfigException("URL scheme must be http, https, unix, or unixs: " + u);
      }
      if (!scheme.startsWith("unix") && (u.getRawAuthority() == null || !u.getRawAuthority().matches(".*:[0-9]*"))) {
        throw new ConfigException("URL address does not have the form \"host:port\": " + u);
      }
      if (u.getPath() != null && !u.getPath().isEmpty() && !scheme.startsWith("unix")) {
        throw new ConfigException("URL must not contain a path: " + u);
      }
    }

    /** etcd's checkBindURLs: a listen URL names an IP address or localhost, not a host to resolve. */
    private static void checkBindUrls(List<URI> urls) {
      for (URI u : urls) {
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        String host = hostOf(u);
        if (scheme.startsWith("unix") || host.equals("localhost")) {
          continue;
        }
        if (!isIpLiteral(host)) {
          throw new ConfigException("expected IP in URL for binding (" + u + ")");
        }
      }
    }

    /** etcd's checkHostURLs: an advertised URL names a host. */
    private static void checkHostUrls(String flag, List<URI> urls) {
      for (URI u : urls) {
        if (hostOf(u).isEmpty()) {
          List<String> all = new ArrayList<>();
          urls.forEach(x -> all.add(x.toString()));
          throw new ConfigException(flag + " \"" + String.join(",", all) + "\" must be \"host:port\" (unexpected empty "
              + "host (" + u + "))");
        }
      }
    }

    /** The host of {@code u}'s {@code host:port} authority (Go's SplitHostPort), without IPv6 brackets. */
    private static String hostOf(URI u) {
      String a = u.getRawAuthority() == null ? "" : u.getRawAuthority();
      int colon = a.lastIndexOf(':');
      String host = colon < 0 ? a : a.substring(0, colon);
      return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** True for an IPv4 dotted quad or an IPv6 literal, without resolving anything. */
    static boolean isIpLiteral(String host) {
      if (host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
        for (String part : host.split("\\.")) {
          if (Integer.parseInt(part) > 255) {
            return false;
          }
        }
        return true;
      }
      return host.contains(":") && host.matches("[0-9a-fA-F:.%a-zA-Z]+");
    }

    private static String canonical(URI u) {
      return u.toString().toLowerCase(Locale.ROOT);
    }

    private static String join(List<URI> urls) {
      List<String> s = new ArrayList<>();
      urls.forEach(u -> s.add(u.toString()));
      return String.join(",", s);
    }

    /** Parses {@code name=url,name=url,...}; a name may repeat to give several URLs. */
    public static Map<String, List<URI>> parseCluster(String s) {
      Map<String, List<URI>> out = new LinkedHashMap<>();
      for (String part : s.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        int eq = p.indexOf('=');
        if (eq <= 0) {
          throw new ConfigException("malformed --initial-cluster entry: \"" + p + "\"");
        }
        URI u;
        try {
          u = new URI(p.substring(eq + 1));
        } catch (java.net.URISyntaxException e) {
          throw new ConfigException("parse \"" + p.substring(eq + 1) + "\": invalid URL");
        }
        checkUrl(u);
        out.computeIfAbsent(p.substring(0, eq), k -> new ArrayList<>()).add(u);
      }
      return out;
    }
  }

  /** Parses etcd's comma-separated URL list. */
  public static List<URI> parseUrls(String flag, String s) {
    List<URI> out = new ArrayList<>();
    for (String part : s.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      try {
        out.add(new URI(p));
      } catch (java.net.URISyntaxException e) {
        throw new ConfigException("invalid value \"" + s + "\" for flag -" + flag + ": parse \"" + p + "\": invalid URL");
      }
    }
    return out;
  }
}
