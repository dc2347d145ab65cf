package io.kvorum.embedded;

import static io.kvorum.embedded.JetcdContract.bytes;
import static io.kvorum.embedded.JetcdContract.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.op.Op;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvorumClusterTest {
  static Client client(List<URI> endpoints) {
    return Client.builder().endpoints(endpoints.toArray(URI[]::new)).build();
  }

  @Test
  void restart_member_keepsItsDataAndPorts() throws Exception {
    try (KvorumCluster kvorum = Kvorum.builder().members(3).build().start();
        Client all = client(kvorum.clientEndpoints())) {
      get(all.getKVClient().put(bytes("k"), bytes("before")));
      List<URI> clients = kvorum.clientEndpoints();
      List<URI> peers = kvorum.peerEndpoints();

      kvorum.stop(1);
      assertThat(kvorum.isRunning(1)).isFalse();
      // Two of three still make a quorum.
      get(all.getKVClient().put(bytes("k"), bytes("while-stopped")));
      kvorum.restart(1);

      assertThat(kvorum.isRunning(1)).isTrue();
      assertThat(kvorum.clientEndpoints()).isEqualTo(clients);
      assertThat(kvorum.peerEndpoints()).isEqualTo(peers);
      try (Client one = client(List.of(clients.get(1)))) {
        assertThat(get(one.getKVClient().get(bytes("k"))).getKvs().get(0).getValue()).isEqualTo(bytes("while-stopped"));
      }
    }
  }

  @Test
  void restart_wholeCluster_keepsData() throws Exception {
    try (KvorumCluster kvorum = Kvorum.builder().build().start()) {
      try (Client c = client(kvorum.clientEndpoints())) {
        get(c.getKVClient().put(bytes("k"), bytes("v")));
      }
      kvorum.restart();
      try (Client c = client(kvorum.clientEndpoints())) {
        assertThat(get(c.getKVClient().get(bytes("k"))).getKvs()).hasSize(1);
      }
    }
  }

  @Test
  void autoTls_servesJetcdOverTlsBetweenMembersToo() throws Exception {
    try (KvorumCluster kvorum = Kvorum.builder().members(3).clientAutoTls().peerAutoTls().build().start()) {
      assertThat(kvorum.clientEndpoints()).allSatisfy(u -> assertThat(u.getScheme()).isEqualTo("https"));
      assertThat(kvorum.peerEndpoints()).allSatisfy(u -> assertThat(u.getScheme()).isEqualTo("https"));
      Path trusted = kvorum.clientCertificates();
      try (Client c = Client.builder().endpoints(kvorum.clientEndpoints().toArray(URI[]::new))
          .sslContext(b -> b.trustManager(trusted.toFile())).build()) {
        get(c.getKVClient().put(bytes("k"), bytes("v")));
        assertThat(get(c.getKVClient().get(bytes("k"))).getKvs()).hasSize(1);
      }
    }
  }

  @Test
  void authEnabled_requiresTheRootUser() throws Exception {
    try (KvorumCluster kvorum = Kvorum.builder().authEnabled("s3cret").build().start()) {
      try (Client anonymous = client(kvorum.clientEndpoints())) {
        assertThatThrownBy(() -> get(anonymous.getKVClient().put(bytes("k"), bytes("v"))))
            .isInstanceOf(ExecutionException.class).hasMessageContaining("user name is empty");
      }
      try (Client root = Client.builder().endpoints(kvorum.clientEndpoints().toArray(URI[]::new))
          .user(bytes("root")).password(bytes("s3cret")).build()) {
        get(root.getKVClient().put(bytes("k"), bytes("v")));
        assertThat(get(root.getAuthClient().userList()).getUsers()).containsExactly("root");
      }
      // Auth stays on, and root is not made again, after a restart.
      kvorum.restart(0);
      try (Client root = Client.builder().endpoints(kvorum.clientEndpoints().toArray(URI[]::new))
          .user(bytes("root")).password(bytes("s3cret")).build()) {
        assertThat(get(root.getKVClient().get(bytes("k"))).getKvs()).hasSize(1);
      }
    }
  }

  @Test
  void close_temporaryDataDir_isDeleted() {
    KvorumCluster kvorum = Kvorum.builder().build().start();
    Path dir = kvorum.dataDir();
    assertThat(dir.resolve("kvorum0").resolve("member")).isDirectory();
    kvorum.close();
    assertThat(dir).doesNotExist();
    assertThatThrownBy(kvorum::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void dataDir_given_isKeptAndAClusterWithTheSamePortsContinuesFromIt(@TempDir Path dir) throws Exception {
    int clientPort = Ports.take();
    int peerPort = Ports.take();
    try (KvorumCluster first = Kvorum.builder().dataDir(dir).clientPort(clientPort).peerPort(peerPort).build().start();
        Client c = client(first.clientEndpoints())) {
      get(c.getKVClient().put(bytes("k"), bytes("kept")));
    }
    assertThat(dir.resolve("kvorum0").resolve("member")).isDirectory();
    try (KvorumCluster second = Kvorum.builder().dataDir(dir).clientPort(clientPort).peerPort(peerPort).build().start();
        Client c = client(second.clientEndpoints())) {
      assertThat(second.clientEndpoints()).containsExactly(URI.create("http://127.0.0.1:" + clientPort));
      assertThat(get(c.getKVClient().get(bytes("k"))).getKvs().get(0).getValue()).isEqualTo(bytes("kept"));
    }
  }

  @Test
  void start_chosenPortTakenMeanwhile_startsOnOtherPorts() throws Exception {
    KvorumCluster kvorum = Kvorum.builder().members(3).build();
    URI peer = kvorum.peerEndpoints().get(1);
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), peer.getPort()));
      kvorum.start();
      assertThat(kvorum.peerEndpoints()).doesNotContain(peer);
      try (Client c = client(kvorum.clientEndpoints())) {
        get(c.getKVClient().put(bytes("k"), bytes("v")));
        assertThat(get(c.getClusterClient().listMember()).getMembers()).hasSize(3);
      }
    } finally {
      kvorum.close();
    }
  }

  @Test
  void start_givenPortTaken_failsNamingIt() throws IOException {
    try (ServerSocket squatter = new ServerSocket()) {
      squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Ports.take()));
      KvorumCluster kvorum = Kvorum.builder().clientPort(squatter.getLocalPort()).build();
      try {
        assertThatThrownBy(kvorum::start).satisfies(e -> assertThat(KvorumCluster.bindFailure(e)).isTrue());
        assertThat(kvorum.isRunning(0)).isFalse();
      } finally {
        kvorum.close();
      }
    }
  }

  @Test
  void etcdFlags_areHonoured() throws Exception {
    try (KvorumCluster kvorum = Kvorum.builder().etcdFlags(List.of("--max-txn-ops", "2")).build().start();
        Client c = client(kvorum.clientEndpoints())) {
      var txn = c.getKVClient().txn().Then(Op.put(bytes("a"), bytes("1"), PutOption.DEFAULT),
          Op.put(bytes("b"), bytes("1"), PutOption.DEFAULT), Op.put(bytes("c"), bytes("1"), PutOption.DEFAULT));
      assertThatThrownBy(() -> get(txn.commit())).hasMessageContaining("too many operations in txn request");
    }
  }

  @Test
  void etcdFlags_ownedByTheBuilderOrUnknown_areRefused() {
    assertThatThrownBy(() -> Kvorum.builder().etcdFlags(List.of("--data-dir", "/tmp/x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--data-dir is not supported");
    assertThatThrownBy(() -> Kvorum.builder().etcdFlags(List.of("--max-txn-ops=lots")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid value \"lots\" for flag --max-txn-ops");
    assertThatThrownBy(() -> Kvorum.builder().etcdFlags(List.of("--snapshot-count")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("flag needs an argument: --snapshot-count");
  }

  @Test
  void builder_outOfRangeValues_areRefused() {
    assertThatThrownBy(() -> Kvorum.builder().members(0)).hasMessageContaining("members must be 1..15");
    assertThatThrownBy(() -> Kvorum.builder().clientPort(70_000)).hasMessageContaining("port must be 1..65535");
    assertThatThrownBy(() -> Kvorum.builder().members(3).clientPort(20_000).peerPort(20_001).build())
        .hasMessageContaining("overlap");
    assertThatThrownBy(() -> Kvorum.builder().authEnabled("")).hasMessageContaining("must not be empty");
  }

  @Test
  void ports_take_isBelowTheEphemeralRangeAndFree() throws IOException {
    int port = Ports.take();
    assertThat(port).isBetween(Ports.FIRST, Ports.ephemeralFirst() - 1);
    assertThat(Ports.free(port)).isTrue();
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(Ports.free(s.getLocalPort())).isFalse();
    }
    assertThat(Files.exists(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
        ? Ports.ephemeralFirst() : Ports.EPHEMERAL_FIRST_DEFAULT).isGreaterThan(Ports.FIRST);
  }
}
