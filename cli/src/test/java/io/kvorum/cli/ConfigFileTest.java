package io.kvorum.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.config.ConfigException;
import io.kvorum.server.config.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --config-file}: etcd's YAML keys, its types and messages, and its rule that the file replaces flags. */
class ConfigFileTest {
  @TempDir Path dir;

  private Path file(String yaml) throws IOException {
    Path f = dir.resolve("etcd.conf.yml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void read_etcdSampleShape_mapsKeysAndTlsSections() throws IOException {
    Path f = file("""
        # The member.
        name: 'infra9'
        data-dir:
        wal-dir:
        snapshot-count: 10000
        heartbeat-interval: 100
        election-timeout: 1000
        quota-backend-bytes: 0
        listen-peer-urls: http://127.0.0.1:12380
        listen-client-urls: http://127.0.0.1:12379,http://127.0.0.1:12389
        initial-advertise-peer-urls: http://127.0.0.1:12380
        advertise-client-urls: http://127.0.0.1:12379
        max-snapshots: 5
        cors:
        discovery:
        discovery-fallback: 'proxy'
        initial-cluster:
        initial-cluster-token: 'token-9'
        initial-cluster-state: 'new'
        strict-reconfig-check: false
        enable-v2: true
        proxy: 'off'
        proxy-read-timeout: 0
        grpc-keepalive-interval: 60000000000
        client-transport-security:
          cert-file: /etc/kvorum/server.pem
          key-file: /etc/kvorum/server-key.pem
          client-cert-auth: true
          trusted-ca-file:
          auto-tls: false
        peer-transport-security:
          trusted-ca-file: /etc/kvorum/peer-ca.pem
          auto-tls: true
        debug: false
        logger: zap
        log-outputs: [stderr]
        force-new-cluster: false
        auto-compaction-mode: periodic
        auto-compaction-retention: "1"
        """);
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"--config-file", f.toString()}, Map.of());
    ServerConfig c = EtcdFlags.toConfig(p);

    assertThat(c.name).isEqualTo("infra9");
    assertThat(c.dataDir).isEqualTo(Path.of("infra9.etcd"));
    assertThat(c.walDir).isNull();
    assertThat(c.snapshotCount).isEqualTo(10000);
    assertThat(c.listenClientUrls).containsExactly(URI.create("http://127.0.0.1:12379"),
        URI.create("http://127.0.0.1:12389"));
    assertThat(c.initialCluster).containsOnlyKeys("infra9");
    assertThat(c.initialClusterToken).isEqualTo("token-9");
    assertThat(c.strictReconfigCheck).isFalse();
    assertThat(c.grpcKeepAliveInterval).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.clientTls.certFile()).isEqualTo(Path.of("/etc/kvorum/server.pem"));
    assertThat(c.clientTls.keyFile()).isEqualTo(Path.of("/etc/kvorum/server-key.pem"));
    assertThat(c.clientTls.clientCertAuth()).isTrue();
    assertThat(c.clientTls.trustedCaFile()).isNull();
    assertThat(c.peerTls.trustedCaFile()).isEqualTo(Path.of("/etc/kvorum/peer-ca.pem"));
    assertThat(c.peerTls.autoTls()).isTrue();
    assertThat(c.logger).isEqualTo("zap");
    assertThat(c.logOutputs).containsExactly("stderr");
    assertThat(c.autoCompactionRetention).isEqualTo("1");
    assertThat(p.notices()).containsExactly("loaded server configuration, other configuration command line flags "
        + "and environment variables will be ignored if provided (path " + f + ")");
    assertThat(p.warnings()).singleElement().asString().startsWith("--enable-v2=true is not supported by Kvorum");
  }

  @Test
  void parse_configFileWithOtherFlagsAndEnvironment_ignoresThemWithWarnings() throws IOException {
    Path f = file("name: from-file\n");
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"--name", "from-flag", "--config-file", f.toString()},
        Map.of("ETCD_SNAPSHOT_COUNT", "7"));
    ServerConfig c = EtcdFlags.toConfig(p);

    assertThat(c.name).isEqualTo("from-file");
    assertThat(c.snapshotCount).isEqualTo(100_000);
    assertThat(p.warnings()).containsExactly("flag --name is ignored: --config-file " + f + " gives the configuration");
  }

  @Test
  void parse_configFileFromTheEnvironment_isRead() throws IOException {
    Path f = file("name: from-env-file\n");
    ServerConfig c = EtcdFlags.toConfig(EtcdFlags.parse(new String[0], Map.of("ETCD_CONFIG_FILE", f.toString())));
    assertThat(c.name).isEqualTo("from-env-file");
  }

  @Test
  void read_wrongTypes_failWithEtcdsMessages() throws IOException {
    Path f = file("snapshot-count: abc\n");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--config-file", f.toString()}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessage("error unmarshaling JSON: while decoding JSON: json: "
            + "cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64");
    Path g = file("grpc-keepalive-min-time: 5s\n");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--config-file", g.toString()}, Map.of()))
        .hasMessage("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct "
            + "field configYAML.grpc-keepalive-min-time of type time.Duration");
    Path h = file("max-txn-ops: -1\n");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--config-file", h.toString()}, Map.of()))
        .hasMessage("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct "
            + "field configYAML.max-txn-ops of type uint");
    Path i = file("log-outputs: stderr\n");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--config-file", i.toString()}, Map.of()))
        .hasMessage("error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct "
            + "field configYAML.log-outputs of type []string");
  }

  @Test
  void read_missingFile_failsLikeEtcd() {
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--config-file", "/no/such/etcd.yml"}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessage("open /no/such/etcd.yml: no such file or directory");
  }

  @Test
  void read_unknownKey_isWarnedAbout() throws IOException {
    Path f = file("name: a\nsnapshot-cuont: 5\n");
    EtcdFlags.Parsed p = EtcdFlags.parse(new String[] {"--config-file", f.toString()}, Map.of());
    assertThat(p.warnings()).containsExactly("unknown key \"snapshot-cuont\" in the configuration file " + f
        + "; ignoring it");
  }

  @Test
  void read_unsupportedValue_isRefusedAsOnTheCommandLine() throws IOException {
    Path f = file("proxy: 'on'\n");
    assertThatThrownBy(() -> EtcdFlags.parse(new String[] {"--config-file", f.toString()}, Map.of()))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("--proxy=on is not supported by Kvorum");
  }

  @Test
  void read_durationsAndLists_becomeFlagValues() throws IOException {
    Path f = file("experimental-watch-progress-notify-interval: 90000000000\ncipher-suites: [A, B]\n"
        + "log-outputs: [stdout]\n");
    ServerConfig c = EtcdFlags.toConfig(EtcdFlags.parse(new String[] {"--config-file", f.toString()}, Map.of()));
    assertThat(c.watchProgressNotifyInterval).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.cipherSuites).isEqualTo(List.of("A", "B"));
    assertThat(c.logOutputs).containsExactly("stdout");
  }
}
