package io.kvorum.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No etcd flag is accepted and then ignored: every flag the real etcd 3.4.23's {@code --help} lists
 * is either honoured (the table below: setting it to a value other than Kvorum's default changes
 * the {@link ServerConfig} field it maps to, or for the few that are behaviour of the launcher, the
 * launcher does it) or on {@link UnsupportedFlags}' one list, whose values that ask for nothing pass
 * and whose others are refused naming the flag or warned about. The flag list comes from the etcd
 * binary ({@code -Detcd.binary=PATH}, default {@code /usr/bin/etcd}, installed by
 * {@code .ci/install-etcd}); without it the test fails, as the differential suite does.
 */
class EtcdFlagListTest {
  static final String ETCD_VERSION = "3.4.23";
  /** Flags whose help text gives a default that is not a value (a placeholder or a Go constant). */
  static final Set<String> DEFAULT_NOT_A_VALUE = Set.of("data-dir", "max-concurrent-streams");
  /** Unsupported flags where Kvorum's fixed behaviour is the flag's non-default value. */
  static final Set<String> BEHAVES_AS_NON_DEFAULT = Set.of("experimental-peer-skip-client-san-verification");

  /**
   * An honoured flag: a value other than Kvorum's default, and the config field it must change;
   * {@code with} are flags etcd requires beside it.
   */
  record Honoured(String flag, String value, Function<ServerConfig, Object> field, String... with) {}

  static final List<Honoured> HONOURED = List.of(
      new Honoured("name", "other", c -> c.name),
      new Honoured("data-dir", "/tmp/elsewhere", c -> c.dataDir),
      new Honoured("wal-dir", "/tmp/wal", c -> c.walDir),
      new Honoured("snapshot-count", "7", c -> c.snapshotCount),
      new Honoured("heartbeat-interval", "50", c -> c.heartbeatInterval),
      new Honoured("election-timeout", "2000", c -> c.electionTimeout),
      new Honoured("initial-election-tick-advance", "false", c -> c.initialElectionTickAdvance),
      new Honoured("listen-peer-urls", "http://127.0.0.1:12380", c -> c.listenPeerUrls),
      new Honoured("listen-client-urls", "http://127.0.0.1:12379", c -> c.listenClientUrls,
          "--advertise-client-urls=http://127.0.0.1:12379"),
      new Honoured("quota-backend-bytes", "4096", c -> c.quotaBackendBytes),
      new Honoured("max-txn-ops", "7", c -> c.maxTxnOps),
      new Honoured("max-request-bytes", "1000", c -> c.maxRequestBytes),
      new Honoured("max-concurrent-streams", "10", c -> c.maxConcurrentStreams),
      new Honoured("grpc-keepalive-min-time", "1s", c -> c.grpcKeepAliveMinTime),
      new Honoured("grpc-keepalive-interval", "1m", c -> c.grpcKeepAliveInterval),
      new Honoured("grpc-keepalive-timeout", "1s", c -> c.grpcKeepAliveTimeout),
      new Honoured("initial-advertise-peer-urls", "http://127.0.0.1:12380", c -> c.initialAdvertisePeerUrls),
      new Honoured("initial-cluster", "default=http://localhost:2380,b=http://localhost:2381", c -> c.initialCluster),
      new Honoured("initial-cluster-state", "existing", c -> c.initialClusterState),
      new Honoured("initial-cluster-token", "other", c -> c.initialClusterToken),
      new Honoured("advertise-client-urls", "http://127.0.0.1:12379", c -> c.advertiseClientUrls),
      new Honoured("strict-reconfig-check", "false", c -> c.strictReconfigCheck),
      new Honoured("pre-vote", "false", c -> c.preVote),
      new Honoured("auto-compaction-retention", "1h", c -> c.autoCompactionRetention),
      new Honoured("auto-compaction-mode", "revision", c -> c.autoCompactionMode),
      new Honoured("cert-file", "/c.pem", c -> c.clientTls.certFile()),
      new Honoured("key-file", "/k.pem", c -> c.clientTls.keyFile()),
      new Honoured("client-cert-auth", "true", c -> c.clientTls.clientCertAuth()),
      new Honoured("client-crl-file", "/crl.pem", c -> c.clientTls.crlFile()),
      new Honoured("client-cert-allowed-hostname", "client.example", c -> c.clientTls.allowedHostname()),
      new Honoured("trusted-ca-file", "/ca.pem", c -> c.clientTls.trustedCaFile()),
      new Honoured("auto-tls", "true", c -> c.clientTls.autoTls()),
      new Honoured("peer-cert-file", "/c.pem", c -> c.peerTls.certFile()),
      new Honoured("peer-key-file", "/k.pem", c -> c.peerTls.keyFile()),
      new Honoured("peer-client-cert-auth", "true", c -> c.peerTls.clientCertAuth()),
      new Honoured("peer-trusted-ca-file", "/ca.pem", c -> c.peerTls.trustedCaFile()),
      new Honoured("peer-cert-allowed-cn", "member", c -> c.peerTls.allowedCn()),
      new Honoured("peer-cert-allowed-hostname", "member.example", c -> c.peerTls.allowedHostname()),
      new Honoured("peer-auto-tls", "true", c -> c.peerTls.autoTls()),
      new Honoured("peer-crl-file", "/crl.pem", c -> c.peerTls.crlFile()),
      new Honoured("cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", c -> c.cipherSuites),
      new Honoured("auth-token", "jwt", c -> c.authToken),
      new Honoured("bcrypt-cost", "5", c -> c.bcryptCost),
      new Honoured("auth-token-ttl", "10", c -> c.authTokenTtl),
      new Honoured("metrics", "extensive", c -> c.metrics),
      new Honoured("listen-metrics-urls", "http://127.0.0.1:12381", c -> c.listenMetricsUrls),
      new Honoured("cors", "https://app.example", c -> c.cors),
      new Honoured("host-whitelist", "app.example", c -> c.hostWhitelist),
      new Honoured("logger", "zap", c -> c.logger),
      new Honoured("log-outputs", "stdout", c -> c.logOutputs),
      new Honoured("log-level", "warn", c -> c.logLevel),
      new Honoured("debug", "true", c -> c.logLevel),
      new Honoured("experimental-initial-corrupt-check", "true", c -> c.initialCorruptCheck),
      new Honoured("experimental-corrupt-check-time", "1m", c -> c.corruptCheckTime),
      new Honoured("experimental-enable-lease-checkpoint", "false", c -> c.enableLeaseCheckpoint),
      new Honoured("experimental-compaction-batch-limit", "10", c -> c.compactionBatchLimit),
      new Honoured("experimental-watch-progress-notify-interval", "1m", c -> c.watchProgressNotifyInterval),
      new Honoured("force-new-cluster", "true", c -> c.forceNewCluster),
      new Honoured("max-snapshots", "0", c -> c.maxSnapshots),
      new Honoured("max-wals", "10", c -> c.maxWals),
      new Honoured("experimental-warning-apply-duration", "1s", c -> c.warningApplyDuration));

  /** Flags that are the launcher's behaviour, not a config field; each has its own test below. */
  static final Set<String> LAUNCHER = Set.of("version", "help", "config-file");

  /** A value each unsupported flag refuses or warns about. */
  static final Map<String, String> UNSUPPORTED_SAMPLES = Map.ofEntries(
      Map.entry("discovery", "https://discovery.example/abc"),
      Map.entry("discovery-srv", "example.com"),
      Map.entry("discovery-srv-name", "kvorum"),
      Map.entry("discovery-proxy", "http://proxy.example:3128"),
      Map.entry("discovery-fallback", "exit"),
      Map.entry("proxy", "on"),
      Map.entry("proxy-failure-wait", "1"),
      Map.entry("proxy-refresh-interval", "1"),
      Map.entry("proxy-dial-timeout", "1"),
      Map.entry("proxy-write-timeout", "1"),
      Map.entry("proxy-read-timeout", "1"),
      Map.entry("experimental-enable-v2v3", "/v2/"),
      Map.entry("enable-v2", "true"),
      Map.entry("enable-pprof", "true"),
      Map.entry("enable-grpc-gateway", "false"),
      Map.entry("unsafe-no-fsync", "true"),
      Map.entry("backend-batch-interval", "10ms"),
      Map.entry("backend-batch-limit", "100"),
      Map.entry("experimental-backend-bbolt-freelist-type", "map"),
      Map.entry("log-package-levels", "etcdserver=DEBUG"),
      Map.entry("experimental-enable-lease-checkpoint-persist", "false"),
      Map.entry("experimental-peer-skip-client-san-verification", "false"));

  /** etcd's flags and the defaults its help gives, in help order. */
  static Map<String, String> etcdFlags;

  @TempDir Path dir;

  static String etcdBinary() {
    return System.getProperty("etcd.binary", "/usr/bin/etcd");
  }

  @BeforeAll
  static void readEtcdHelp() throws IOException, InterruptedException {
    Path bin = Path.of(etcdBinary());
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException("no etcd at " + bin + ": install etcd " + ETCD_VERSION
          + " (.ci/install-etcd, or apt-get install etcd-server etcd-client) or pass -Detcd.binary=PATH");
    }
    String version = run(bin.toString(), "--version");
    if (!version.contains("etcd Version: " + ETCD_VERSION)) {
      throw new IllegalStateException(bin + " is not etcd " + ETCD_VERSION + ": " + version);
    }
    etcdFlags = parseHelp(run(bin.toString(), "--help"));
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", cmd) + " did not end");
    }
    return out;
  }

  /**
   * The flags of etcd's help: the indented {@code --flag default} lines of its sections, and the
   * flags of its usage lines ({@code etcd --version}, {@code etcd -h | --help}, {@code etcd --config-file}).
   */
  static Map<String, String> parseHelp(String help) {
    Map<String, String> flags = new LinkedHashMap<>();
    Pattern usage = Pattern.compile("^\\s+etcd (?:-h \\| )?--([a-z0-9-]+)\\s*$");
    Pattern flag = Pattern.compile("^\\s+--([a-z0-9][a-z0-9-]*)(?:\\s+(.*))?$");
    for (String line : help.split("\n")) {
      Matcher u = usage.matcher(line);
      if (u.matches()) {
        flags.put(u.group(1), "");
        continue;
      }
      Matcher f = flag.matcher(line);
      if (f.matches()) {
        String d = f.group(2) == null ? "" : f.group(2).trim();
        if (d.length() >= 2 && d.startsWith("'") && d.endsWith("'")) {
          d = d.substring(1, d.length() - 1);
        }
        flags.put(f.group(1), d);
      }
    }
    return flags;
  }

  private static EtcdFlags.Parsed parse(String... args) {
    return EtcdFlags.parse(args, Map.of());
  }

  @Test
  void help_ofTheRealEtcd_listsTheFlagsThisTestKnows() {
    assertThat(etcdFlags).hasSizeGreaterThan(80).containsKeys("name", "force-new-cluster", "version", "help",
        "config-file", "proxy-read-timeout", "log-package-levels");
  }

  @Test
  void everyEtcdFlag_isHonouredOrOnTheUnsupportedList() {
    Set<String> honoured = new TreeSet<>(LAUNCHER);
    HONOURED.forEach(h -> assertThat(honoured.add(h.flag())).as("listed twice: " + h.flag()).isTrue());
    List<String> neither = new ArrayList<>();
    for (String flag : etcdFlags.keySet()) {
      boolean unsupported = UnsupportedFlags.find(flag) != null;
      assertThat(honoured.contains(flag) && unsupported).as(flag + " is both honoured and unsupported").isFalse();
      if (!honoured.contains(flag) && !unsupported) {
        neither.add(flag);
      }
    }
    assertThat(neither).as("etcd flags neither honoured nor on the unsupported list").isEmpty();
    for (String flag : honoured) {
      assertThat(etcdFlags).as("the honoured table names a flag etcd does not have").containsKey(flag);
    }
  }

  @Test
  void honouredFlag_nonDefaultValue_changesItsConfigField() {
    ServerConfig defaults = EtcdFlags.toConfig(parse());
    for (Honoured h : HONOURED) {
      List<String> args = new ArrayList<>(List.of("--" + h.flag() + "=" + h.value()));
      args.addAll(List.of(h.with()));
      EtcdFlags.Parsed p = parse(args.toArray(String[]::new));
      ServerConfig c = EtcdFlags.toConfig(p);
      assertThat(Objects.equals(h.field().apply(c), h.field().apply(defaults)))
          .as("--%s=%s leaves its field at %s", h.flag(), h.value(), h.field().apply(defaults)).isFalse();
      assertThat(p.warnings()).as("--" + h.flag()).noneMatch(w -> w.contains("not supported"));
    }
  }

  @Test
  void unsupportedFlag_etcdsDefault_passesSilently() {
    for (UnsupportedFlags.Entry e : UnsupportedFlags.ENTRIES) {
      if (!etcdFlags.containsKey(e.flag()) || BEHAVES_AS_NON_DEFAULT.contains(e.flag())
          || DEFAULT_NOT_A_VALUE.contains(e.flag())) {
        continue;
      }
      String dflt = etcdFlags.get(e.flag());
      EtcdFlags.Parsed p = parse("--" + e.flag() + "=" + dflt);
      EtcdFlags.toConfig(p);
      assertThat(p.warnings()).as("--%s=%s (etcd's default)", e.flag(), dflt).isEmpty();
    }
  }

  @Test
  void unsupportedFlag_valueAskingForMore_isRefusedOrWarnedNamingTheFlag() {
    for (UnsupportedFlags.Entry e : UnsupportedFlags.ENTRIES) {
      String sample = UNSUPPORTED_SAMPLES.get(e.flag());
      assertThat(sample).as("a sample value for " + e.flag()).isNotNull();
      String arg = "--" + e.flag() + "=" + sample;
      if (e.action() == UnsupportedFlags.Action.REFUSE) {
        assertThatThrownBy(() -> EtcdFlags.toConfig(parse(arg))).as(arg).isInstanceOf(ConfigException.class)
            .hasMessageStartingWith("--" + e.flag() + "=" + sample + " is not supported by Kvorum: ");
      } else {
        EtcdFlags.Parsed p = parse(arg);
        EtcdFlags.toConfig(p);
        assertThat(p.warnings()).as(arg).anyMatch(w -> w.startsWith("--" + e.flag() + "=" + sample
            + " is not supported by Kvorum: "));
      }
    }
  }

  @Test
  void unsupportedFlag_fromTheEnvironment_isCheckedToo() {
    assertThatThrownBy(() -> EtcdFlags.parse(new String[0], Map.of("ETCD_PROXY", "readonly")))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("--proxy=readonly is not supported by Kvorum");
  }

  @Test
  void unsupportedList_isDocumented() throws IOException {
    String docs = Files.readString(Path.of("..", "docs", "flags.md"));
    for (UnsupportedFlags.Entry e : UnsupportedFlags.ENTRIES) {
      assertThat(docs).as("docs/flags.md names --" + e.flag()).contains("`--" + e.flag() + "`");
    }
  }

  @Test
  void version_printsEtcdsVersionLines() {
    String out = mainOutput("--version");
    assertThat(out).startsWith("etcd Version: " + ETCD_VERSION + "\n").contains("Git SHA: ");
  }

  @Test
  void help_printsTheUsage() {
    assertThat(mainOutput("--help")).startsWith("Usage:").contains("--force-new-cluster");
    assertThat(mainOutput("-h")).startsWith("Usage:");
  }

  @Test
  void configFile_givesTheSettings() throws IOException {
    Path file = dir.resolve("etcd.conf.yml");
    Files.writeString(file, "name: from-file\n");
    assertThat(EtcdFlags.toConfig(parse("--config-file", file.toString())).name).isEqualTo("from-file");
  }

  private static String mainOutput(String... args) {
    PrintStream saved = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      Main.main(args);
    } finally {
      System.setOut(saved);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
