package io.kvorum.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.ServerConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EtcdFlagsTest {
  private static ServerConfig config(Map<String, String> env, String... args) {
    return EtcdFlags.toConfig(EtcdFlags.parse(args, env));
  }

  @Test
  void parse_suiteStyleFlags_buildsConfig() {
    ServerConfig c = config(Map.of(), "--name", "infra1", "--data-dir", "/tmp/x",
        "--listen-client-urls", "http://localhost:20000", "--advertise-client-urls=http://localhost:20000",
        "--listen-peer-urls", "http://localhost:20001", "--initial-advertise-peer-urls", "http://localhost:20001",
        "--initial-cluster-token", "new", "--initial-cluster",
        "infra1=http://localhost:20001,infra2=http://localhost:20006", "--snapshot-count", "100000",
        "--strict-reconfig-check=false", "--experimental-initial-corrupt-check", "--client-cert-auth",
        "--quota-backend-bytes", "4096");
    assertThat(c.name).isEqualTo("infra1");
    assertThat(c.dataDir).isEqualTo(Path.of("/tmp/x"));
    assertThat(c.advertiseClientUrls).containsExactly(URI.create("http://localhost:20000"));
    assertThat(c.initialCluster).containsOnlyKeys("infra1", "infra2");
    assertThat(c.strictReconfigCheck).isFalse();
    assertThat(c.initialCorruptCheck).isTrue();
    assertThat(c.clientTls.clientCertAuth()).isTrue();
    assertThat(c.quotaBackendBytes).isEqualTo(4096);
    assertThat(c.electionTicks()).isEqualTo(10);
  }

  @Test
  void parse_unknownFlag_failsLikeEtcd() {
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--no-such-flag", "1"}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessage("flag provided but not defined: -no-such-flag");
  }

  @Test
  void parse_environment_fillsUnsetFlagsAndWarnsOnUnknown() {
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"--name", "a"},
        Map.of("ETCD_NAME", "b", "ETCD_SNAPSHOT_COUNT", "7", "ETCD_UNSUPPORTED_ARCH", "amd64"));
    assertThat(p.get("name")).isEqualTo("a");
    assertThat(p.get("snapshot-count")).isEqualTo("7");
    assertThat(p.warnings()).contains("unrecognized environment variable ETCD_UNSUPPORTED_ARCH=amd64",
        "recognized environment variable ETCD_NAME, but unused: shadowed by corresponding flag");
  }

  @Test
  void parse_repeatedFlag_lastValueWins() {
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"--name", "a", "--client-cert-auth", "--name", "b",
        "--client-cert-auth"}, Map.of());
    assertThat(p.get("name")).isEqualTo("b");
    assertThat(p.get("client-cert-auth")).isEqualTo("true");
  }

  @Test
  void build_defaults_matchEtcd() {
    ServerConfig c = config(Map.of());
    assertThat(c.name).isEqualTo("default");
    assertThat(c.dataDir).isEqualTo(Path.of("default.etcd"));
    assertThat(c.listenClientUrls).containsExactly(URI.create("http://localhost:2379"));
    assertThat(c.initialCluster).containsEntry("default", List.of(URI.create("http://localhost:2380")));
    assertThat(c.maxRequestBytes).isEqualTo(1_572_864);
    assertThat(c.maxTxnOps).isEqualTo(128);
  }

  @Test
  void build_nameMissingFromInitialCluster_failsWithEtcdMessage() {
    assertThatThrownBy(() -> config(Map.of(), "--name", "x", "--initial-cluster", "y=http://localhost:2380"))
        .hasMessage("couldn't find local name \"x\" in the initial cluster configuration");
  }

  @Test
  void build_electionTimeoutTooShort_fails() {
    assertThatThrownBy(() -> config(Map.of(), "--heartbeat-interval", "100", "--election-timeout", "200"))
        .hasMessageContaining("should be at least as 5 times as --heartbeat-interval");
  }

  @Test
  void duration_goSyntax_parses() {
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"--experimental-watch-progress-notify-interval", "1m30s"},
        Map.of());
    assertThat(EtcdFlags.duration(p, "experimental-watch-progress-notify-interval", Duration.ZERO))
        .isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void parse_hiddenAndLegacyEtcdFlags_areAcceptedAsEtcdDoes() {
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"-v", "--enable-grpc-gateway", "--unsafe-no-fsync=false"},
        Map.of());
    assertThat(p.warnings()).containsExactly("flag \"-v\" is no longer supported - ignoring.");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--unsafe-no-fsync"}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessage("--unsafe-no-fsync=true is not supported by Kvorum: Kvorum "
            + "always fsyncs its WAL");
  }

  @Test
  void build_selectiveValues_failLikeEtcd() {
    assertThatThrownBy(() -> config(Map.of(), "--proxy", "sometimes"))
        .hasMessage("invalid value \"sometimes\" for flag -proxy: invalid value \"sometimes\"");
    assertThatThrownBy(() -> config(Map.of(), "--experimental-enable-lease-checkpoint=false",
        "--experimental-enable-lease-checkpoint-persist"))
        .hasMessage("setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint");
  }

  @Test
  void build_keepAliveAndTickAdvance_areSet() {
    ServerConfig c = config(Map.of(), "--grpc-keepalive-min-time", "1s", "--grpc-keepalive-interval=0",
        "--initial-election-tick-advance=false", "--force-new-cluster");
    assertThat(c.grpcKeepAliveMinTime).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.grpcKeepAliveInterval).isEqualTo(Duration.ZERO);
    assertThat(c.initialElectionTickAdvance).isFalse();
    assertThat(c.forceNewCluster).isTrue();
  }

  @Test
  void parse_gatewayOrGrpcProxySubcommand_isRefusedNamingIt() {
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"gateway", "start", "--endpoints=127.0.0.1:2379"}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("'etcd gateway' is not supported by Kvorum");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"grpc-proxy", "start"}, Map.of()))
        .hasMessageStartingWith("'etcd grpc-proxy' is not supported by Kvorum");
  }

  @Test
  void build_listenClientUrlsWithoutAdvertised_failsWithEtcdsMessage() {
    assertThatThrownBy(() -> config(Map.of(), "--listen-client-urls", "http://127.0.0.1:12379"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--advertise-client-urls is required when --listen-client-urls is set explicitly");
    assertThatThrownBy(() -> config(Map.of("ETCD_LISTEN_CLIENT_URLS", "http://127.0.0.1:12379")))
        .hasMessage("--advertise-client-urls is required when --listen-client-urls is set explicitly");
  }
}
