package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.config.TlsConfig;
import io.kvorum.server.membership.Member;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.testing.LogCapture;
import io.kvorum.server.tls.TestCa;
import io.kvorum.server.transport.PeerServer;
import io.kvorum.server.tls.TlsMaterial;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that must not get in: a member of another cluster (certificates of another CA, a name the
 * allowed-CN or allowed-hostname flag does not accept, plaintext on a TLS port, another cluster id)
 * dials a running three-member TLS cluster, which refuses it and logs why, and goes on as before:
 * the same leader in the same term, the same members, writes served.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PeerRefusalTest {
  /** Election timeouts an intruder is given to disturb the cluster. */
  private static final int ELECTIONS_GIVEN = 4;
  private static final Duration ELECTION_TIMEOUT = Duration.ofMillis(500);
  private static final String TRANSPORT_LOGGERS = "io.kvorum.server.transport";
  private static final String TLS_LOGGERS = "io.kvorum.server.tls";
  private static final int SOCKET_TIMEOUT_MS = 20_000;
  private static final String REJECTED_PEER = "on the peer port";
  /** The dialing side's logger, where a refused member reads why. */
  private static final String SENDER = "io.kvorum.server.transport.PeerSender";

  @TempDir Path dir;
  private LocalCluster cluster;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private LogCapture logs;
  private TestCa caA;
  private TestCa caB;
  private TestCa.Issued memberA;

  @BeforeEach
  void setUp() throws IOException {
    logs = LogCapture.of(TRANSPORT_LOGGERS, TLS_LOGGERS);
    caA = TestCa.create(dir.resolve("ca-a"), "cluster-a-ca");
    caB = TestCa.create(dir.resolve("ca-b"), "cluster-b-ca");
    memberA = caA.issue("member", "member.a.test", List.of("member.a.test", "127.0.0.1", "localhost"));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    if (cluster != null) {
      cluster.close();
    }
    logs.close();
  }

  private static PutRequest put(String k) {
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8("v")).build();
  }

  /** Cluster A: three members on https peer URLs, each demanding a certificate of A's CA. */
  private void startClusterA(String allowedCn, String allowedHostname) throws IOException {
    TlsConfig tls = new TlsConfig(memberA.certFile(), memberA.keyFile(), caA.caFile(), true, false, null, allowedCn,
        allowedHostname);
    cluster = LocalCluster.start(dir.resolve("a"), 3, "https", b -> b.peerTls = tls);
  }

  /** What a cluster looks like before an intruder comes: its leader, term and members. */
  private record State(long leader, long term, List<Long> members) {}

  private State settled() {
    EtcdServer leader = cluster.leader(s -> true);
    for (EtcdServer s : cluster.members().values()) {
      LocalCluster.await("every member follows " + leader.memberId(), () -> s.leader() == leader.memberId());
    }
    return state();
  }

  private State state() {
    EtcdServer any = cluster.members().values().iterator().next();
    return new State(any.leader(), any.term(), any.membership().list().stream().map(Member::id).sorted().toList());
  }

  /** Lets {@link #ELECTIONS_GIVEN} election timeouts pass on the members' clock. */
  private void giveTimeToDisturb() {
    long from = cluster.clock().nanos();
    long span = ELECTION_TIMEOUT.toNanos() * ELECTIONS_GIVEN;
    LocalCluster.await(ELECTIONS_GIVEN + " election timeouts pass", () -> cluster.clock().nanos() - from >= span);
  }

  /** The cluster is as it was: every member with the same leader and term, the same members; writes served. */
  private void assertUndisturbed(State before) throws Exception {
    for (EtcdServer s : cluster.members().values()) {
      assertThat(s.leader()).as("leader seen by %x", s.memberId()).isEqualTo(before.leader());
      assertThat(s.term()).as("term of %x", s.memberId()).isEqualTo(before.term());
      assertThat(s.membership().list().stream().map(Member::id).sorted().toList()).isEqualTo(before.members());
    }
    EtcdServer leader = cluster.members().values().stream().filter(s -> s.memberId() == before.leader()).findFirst()
        .orElseThrow();
    long rev = leader.kv().put(RequestContext.of("test"), put("after-intruder")).get(20, TimeUnit.SECONDS).getHeader()
        .getRevision();
    for (EtcdServer s : cluster.members().values()) {
      LocalCluster.await("the write reaches " + s.memberId(), () -> s.header().getRevision() >= rev);
    }
  }

  /**
   * Starts member "b1" of a two-member cluster B whose other member, "a1", is at cluster A's first
   * member's peer URL: b1 campaigns, and sends its votes there.
   */
  private EtcdServer startIntruder(String scheme, TlsConfig tls) throws IOException {
    URI target = cluster.members().values().iterator().next().membership()
        .get(cluster.members().values().iterator().next().memberId()).peerUrls().stream().map(URI::create)
        .findFirst().orElseThrow();
    URI aUrl = URI.create(scheme + "://" + target.getHost() + ":" + target.getPort());
    URI own = URI.create(scheme + "://127.0.0.1:" + LocalCluster.freePort());
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "b1";
    b.dataDir = dir.resolve("b1");
    b.listenPeerUrls = List.of(own);
    b.initialAdvertisePeerUrls = List.of(own);
    b.initialCluster = "b1=" + own + ",a1=" + aUrl;
    b.initialClusterToken = "cluster-b";
    b.heartbeatIntervalMs = 50;
    b.electionTimeoutMs = ELECTION_TIMEOUT.toMillis();
    b.peerTls = tls;
    b.clock = cluster.clock();
    EtcdServer s = EtcdServer.start(b.build());
    toClose.add(s::hardStop);
    return s;
  }

  /** A CA file trusting both CAs: an intruder that accepts cluster A's members, so that it presents its own certificate. */
  private Path bothCas() throws IOException {
    Path both = dir.resolve("both-cas.crt");
    Files.writeString(both, Files.readString(caA.caFile()) + Files.readString(caB.caFile()));
    return both;
  }

  /** The peer port of cluster A's first member. */
  private int peerPort() {
    EtcdServer first = cluster.members().values().iterator().next();
    return URI.create(first.membership().get(first.memberId()).peerUrls().get(0)).getPort();
  }

  /**
   * A TLS socket to {@code port} on loopback that presents {@code cert} whatever CAs the server
   * names, as Go's TLS client does, and trusts servers of {@code trustedCa}.
   */
  private static SSLSocket tlsSocket(int port, TestCa.Issued cert, Path trustedCa) throws Exception {
    TlsMaterial m = TlsMaterial.load("test", new TlsConfig(cert.certFile(), cert.keyFile(), trustedCa, false, false,
        null, null, null), List.of(), null, List.of());
    X509KeyManager km = (X509KeyManager) m.keyManagerFactory().getKeyManagers()[0];
    String alias = km.getClientAliases("EC", null)[0];
    X509ExtendedKeyManager always = new X509ExtendedKeyManager() {
      @Override
      public String[] getClientAliases(String keyType, Principal[] issuers) {
        return new String[] {alias};
      }

      @Override
      public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return alias;
      }

      @Override
      public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return alias;
      }

      @Override
      public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
      }

      @Override
      public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
      }

      @Override
      public X509Certificate[] getCertificateChain(String a) {
        return km.getCertificateChain(a);
      }

      @Override
      public PrivateKey getPrivateKey(String a) {
        return km.getPrivateKey(a);
      }
    };
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {always}, new TrustManager[] {m.dialingTrustManager()}, null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
    s.setSoTimeout(SOCKET_TIMEOUT_MS);
    SSLParameters p = s.getSSLParameters();
    p.setApplicationProtocols(new String[] {"h2"});
    s.setSSLParameters(p);
    return s;
  }

  /** The server ends the connection: a failed handshake, or the end of the stream, before any answer. */
  private static void assertClosedOrFailed(Socket s) {
    try {
      if (s instanceof SSLSocket tls) {
        tls.startHandshake();
        // TLS 1.3: the client's certificate is checked after the client finished its handshake.
        tls.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        tls.getOutputStream().flush();
      }
      assertThat(s.getInputStream().read()).as("the server closes the connection").isEqualTo(-1);
    } catch (IOException e) {
      // An alert or a reset: refused too.
      assertThat(e).isNotInstanceOf(java.net.SocketTimeoutException.class);
    }
  }

  @Test
  void peerWithCertificateOfAnotherCa_refusedAtTheHandshake_clusterUndisturbed() throws Exception {
    startClusterA(null, null);
    State before = settled();
    TestCa.Issued foreign = caB.issue("intruder", "member.a.test", List.of("member.a.test", "127.0.0.1", "localhost"));
    EtcdServer intruder = startIntruder("https",
        new TlsConfig(foreign.certFile(), foreign.keyFile(), bothCas(), true, false, null, null, null));

    // The JDK presents a certificate only when it is of a CA the server names: the intruder
    // presents none. (Go presents it regardless; the raw client below does too.)
    String line = logs.await(REJECTED_PEER, "tls: client didn't provide a certificate");
    assertThat(line).contains("rejected connection from \"127.0.0.1:");
    // The intruder learns it was refused, in Go's words.
    logs.await(SENDER, "remote error: tls: bad certificate");

    // A client that presents B's certificate all the same is refused by the chain check.
    try (SSLSocket s = tlsSocket(peerPort(), foreign, caA.caFile())) {
      assertClosedOrFailed(s);
    }
    line = logs.await(REJECTED_PEER, "x509: certificate signed by unknown authority");
    assertThat(line).contains("CN=member.a.test");
    giveTimeToDisturb();
    assertUndisturbed(before);
    assertThat(intruder.leader()).isZero();
  }

  @Test
  void peerWithAnotherCommonName_refusedUnderAllowedCn_clusterUndisturbed() throws Exception {
    startClusterA("member.a.test", null);
    State before = settled();
    // Signed by A's own CA: only the name is wrong.
    TestCa.Issued other = caA.issue("other-cn", "intruder.a.test", List.of("member.a.test", "127.0.0.1", "localhost"));
    startIntruder("https", new TlsConfig(other.certFile(), other.keyFile(), caA.caFile(), true, false, null, null, null));

    String line = logs.await(REJECTED_PEER, "client certificate authentication failed");
    assertThat(line).contains("intruder.a.test");
    logs.await(SENDER, "remote error: tls: bad certificate");
    giveTimeToDisturb();
    assertUndisturbed(before);
  }

  @Test
  void peerWithAnotherHostName_refusedUnderAllowedHostname_clusterUndisturbed() throws Exception {
    startClusterA(null, "member.a.test");
    State before = settled();
    // Signed by A's own CA, with A's common name, for another host name (and the loopback address).
    TestCa.Issued other = caA.issue("other-host", "member.a.test", List.of("intruder.a.test", "127.0.0.1"));
    startIntruder("https", new TlsConfig(other.certFile(), other.keyFile(), caA.caFile(), true, false, null, null, null));

    String line = logs.await(REJECTED_PEER, "client certificate authentication failed");
    assertThat(line).contains("member.a.test");
    logs.await(SENDER, "remote error: tls: bad certificate");
    giveTimeToDisturb();
    assertUndisturbed(before);
  }

  @Test
  void plaintextPeerOnTlsPort_refused_clusterUndisturbed() throws Exception {
    startClusterA(null, null);
    State before = settled();
    startIntruder("http", TlsConfig.NONE);

    String line = logs.await(REJECTED_PEER, "first record does not look like a TLS handshake");
    assertThat(line).contains("rejected connection from \"127.0.0.1:");
    // And plain HTTP/1.1, as curl would send to an http:// URL of the port.
    int seen = logs.matching(REJECTED_PEER, "first record does not look like a TLS handshake").size();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), peerPort())) {
      s.setSoTimeout(SOCKET_TIMEOUT_MS);
      s.getOutputStream().write("GET /members HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertClosedOrFailed(s);
    }
    LocalCluster.await("one more rejection logged",
        () -> logs.matching(REJECTED_PEER, "first record does not look like a TLS handshake").size() > seen);
    giveTimeToDisturb();
    assertUndisturbed(before);
  }

  @Test
  void memberOfAnotherCluster_refusedForItsClusterId_clusterUndisturbed() throws Exception {
    startClusterA(null, null);
    State before = settled();
    // A certificate A's members accept: only the cluster id tells the intruder apart.
    TestCa.Issued same = caA.issue("same-ca", "member.a.test", List.of("member.a.test", "127.0.0.1", "localhost"));
    EtcdServer intruder = startIntruder("https",
        new TlsConfig(same.certFile(), same.keyFile(), caA.caFile(), true, false, null, null, null));

    String line = logs.await(PeerServer.class.getName(), "cluster ID mismatch");
    assertThat(line).contains("rejected").contains(Long.toHexString(intruder.memberId()));
    // The intruder is told, and says so.
    logs.await(SENDER, "cluster ID mismatch");
    giveTimeToDisturb();
    assertUndisturbed(before);
    assertThat(intruder.leader()).isZero();
  }

  @Test
  void removedMemberComingBack_refusedAsRemoved_stopsItself_clusterUndisturbed() throws Exception {
    startClusterA(null, null);
    EtcdServer leader = cluster.leader(s -> true);
    EtcdServer gone = cluster.other(leader);
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() == gone).findFirst().orElseThrow()
        .getKey();
    cluster.stop(gone);
    cluster.reconfigure(Reconfiguration.HEALTH_INTERVAL,
        () -> leader.memberRemove(RequestContext.of("test"), gone.memberId()));
    State before = settled();
    assertThat(before.members()).hasSize(2).doesNotContain(gone.memberId());

    // It comes back on its old data dir, where it is still a voter of three.
    EtcdServer back = cluster.restart(name);
    assertThat(back.terminated().get(30, TimeUnit.SECONDS)).contains("removed");
    cluster.members().remove(name);
    // Its peers said why, and logged it.
    logs.await(PeerServer.class.getName(), "rejected", "from member " + Long.toHexString(gone.memberId()),
        PeerServer.REMOVED_MEMBER);
    giveTimeToDisturb();
    assertUndisturbed(before);
  }

  @Test
  void joinWithoutBeingAdded_failsCleanly_clusterUndisturbed() throws Exception {
    startClusterA(null, null);
    State before = settled();
    URI own = URI.create("https://127.0.0.1:" + LocalCluster.freePort());
    StringBuilder initial = new StringBuilder();
    for (EtcdServer s : cluster.members().values()) {
      Member m = s.membership().get(s.memberId());
      initial.append(m.name()).append('=').append(m.peerUrls().get(0)).append(',');
    }
    initial.append("m4=").append(own);
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "m4";
    b.dataDir = dir.resolve("m4");
    b.listenPeerUrls = List.of(own);
    b.initialAdvertisePeerUrls = List.of(own);
    b.initialCluster = initial.toString();
    b.initialClusterState = ServerConfig.ClusterState.EXISTING;
    b.heartbeatIntervalMs = 50;
    b.electionTimeoutMs = ELECTION_TIMEOUT.toMillis();
    b.peerTls = cluster.members().values().iterator().next().config().peerTls;
    // Its own clock, jumped past the join timeout while it waits: the cluster's clock keeps its pace.
    io.kvorum.server.clock.FakeClock own4 = new io.kvorum.server.clock.FakeClock();
    b.clock = own4;
    java.util.concurrent.CompletableFuture<EtcdServer> start = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return EtcdServer.start(b.build());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    while (!start.isDone()) {
      own4.jump(Duration.ofSeconds(1));
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
    assertThat(start).failsWithin(Duration.ZERO).withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingRootCause().withMessageContaining("error validating peerURLs").withMessageContaining("is not in the cluster");
    // Nothing was created that a later start would take for a member's data.
    assertThat(dir.resolve("m4/member/wal")).doesNotExist();
    giveTimeToDisturb();
    assertUndisturbed(before);
  }
}
