package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.authpb.UserAddOptions;
import io.kvorum.proto.etcdserverpb.AuthEnableRequest;
import io.kvorum.proto.etcdserverpb.AuthGrpc;
import io.kvorum.proto.etcdserverpb.AuthRoleAddRequest;
import io.kvorum.proto.etcdserverpb.AuthRoleGrantPermissionRequest;
import io.kvorum.proto.etcdserverpb.AuthUserAddRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGetRequest;
import io.kvorum.proto.etcdserverpb.AuthUserGrantRoleRequest;
import io.kvorum.proto.etcdserverpb.AuthenticateRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.config.TlsConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.testing.LogCapture;
import io.kvorum.server.tls.Fixtures;
import io.kvorum.server.tls.TlsException;
import io.kvorum.server.tls.TlsMaterial;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client gRPC server with etcd's client TLS flags, dialed by gRPC and plain JSSE clients on loopback. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientServerTlsTest {
  private static final long CALL_SECONDS = 20;
  private static final URI HTTPS_ANY_PORT = URI.create("https://127.0.0.1:0");

  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** A one-member server serving clients on {@code url} with {@code tls}; returns the bound port. */
  private int serve(URI url, TlsConfig tls, List<String> cipherSuites) throws Exception {
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "m";
    b.dataDir = dir.resolve("m");
    URI peer = URI.create("http://127.0.0.1:0");
    b.listenPeerUrls = List.of(peer);
    b.initialAdvertisePeerUrls = List.of(peer);
    b.listenClientUrls = List.of(url);
    b.clientTls = tls;
    b.cipherSuites = cipherSuites;
    b.heartbeatIntervalMs = 50;
    b.electionTimeoutMs = 500;
    EtcdServer server = EtcdServer.start(b.build());
    toClose.add(server);
    ClientServer cs = ClientServer.start(server, List.of(url));
    toClose.add(cs);
    // Writes fail fast with "etcdserver: no leader" until the member has elected itself.
    LocalCluster.await("a leader", () -> server.leader() != 0);
    return cs.ports().get(0);
  }

  private static TlsConfig fixtureServer(boolean clientCertAuth, String crl) {
    return new TlsConfig(Fixtures.path("server.crt"), Fixtures.path("server.key.insecure"), Fixtures.path("ca.crt"),
        clientCertAuth, false, crl == null ? null : Fixtures.path(crl), null, null);
  }

  /** A client's material: its certificate (or none) and the fixture CA (or trust in anything). */
  private TlsMaterial client(String cert, String key) throws TlsException {
    TlsConfig cfg = cert == null
        ? new TlsConfig(null, null, null, false, true, null, null, null)
        : new TlsConfig(Fixtures.path(cert), Fixtures.path(key), Fixtures.path("ca.crt"), false, false, null, null, null);
    return TlsMaterial.load("test-client", cfg, List.of(), dir.resolve("client"), List.of(URI.create("https://localhost:1")));
  }

  /** A serializable range over TLS; the material's certificate is presented unless {@code present} is false. */
  private void range(int port, TlsMaterial m, X509TrustManager trust, boolean present) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK).trustManager(trust);
    if (present) {
      ssl.keyManager(m.keyManagerFactory());
    }
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(ssl.build()).negotiationType(NegotiationType.TLS).build();
    try {
      KVGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
          .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setSerializable(true).build());
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(CALL_SECONDS, TimeUnit.SECONDS);
    }
  }

  private static void assertUnavailable(ThrowingCall call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @FunctionalInterface
  private interface ThrowingCall {
    void run() throws Exception;
  }

  @Test
  void start_clientCertAuth_acceptsCaSignedClientsOnly() throws Exception {
    int port = serve(HTTPS_ANY_PORT, fixtureServer(true, null), List.of());
    TlsMaterial good = client("server2.crt", "server2.key.insecure");
    TlsMaterial stranger = client(null, null);

    range(port, good, good.dialingTrustManager(), true);
    try (LogCapture logs = LogCapture.of("io.kvorum.server.tls")) {
      assertUnavailable(() -> range(port, good, good.dialingTrustManager(), false));
      String line = logs.await("rejected connection from \"127.0.0.1:", "on the client port",
          "tls: client didn't provide a certificate");
      assertThat(line).doesNotContain("peer port");
      assertUnavailable(() -> range(port, stranger, good.dialingTrustManager(), true));
      // Still serving the clients it should.
      range(port, good, good.dialingTrustManager(), true);
    }
  }

  @Test
  void metricsListener_plaintextOnHttpsUrl_refusedAndLogged() throws Exception {
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "m";
    b.dataDir = dir.resolve("m");
    URI peer = URI.create("http://127.0.0.1:0");
    b.listenPeerUrls = List.of(peer);
    b.initialAdvertisePeerUrls = List.of(peer);
    b.listenClientUrls = List.of(HTTPS_ANY_PORT);
    b.clientTls = fixtureServer(false, null);
    int metricsPort = LocalCluster.freePort();
    b.listenMetricsUrls = List.of(URI.create("https://127.0.0.1:" + metricsPort));
    EtcdServer server = EtcdServer.start(b.build());
    toClose.add(server);
    toClose.add(ClientServer.start(server, List.of(HTTPS_ANY_PORT)));
    try (LogCapture logs = LogCapture.of("io.kvorum.server.tls");
        java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), metricsPort)) {
      s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(CALL_SECONDS));
      s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      int first;
      try {
        first = s.getInputStream().read();
      } catch (java.net.SocketException reset) {
        first = -1;
      }
      assertThat(first).as("no answer in the clear").isEqualTo(-1);
      logs.await("rejected connection from \"127.0.0.1:", "on the metrics port",
          "tls: first record does not look like a TLS handshake");
    }
  }

  @Test
  void start_plaintextOnTlsPort_refusedAndLogged_tlsClientsStillServed() throws Exception {
    int port = serve(HTTPS_ANY_PORT, fixtureServer(false, null), List.of());
    TlsMaterial good = client("server.crt", "server.key.insecure");
    try (LogCapture logs = LogCapture.of("io.kvorum.server.tls")) {
      // gRPC in the clear (etcdctl --endpoints http://... against an https port).
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      toClose.add(ch::shutdownNow);
      assertUnavailable(() -> KVGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
          .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setSerializable(true).build()));
      logs.await("rejected connection from \"127.0.0.1:", "on the client port",
          "tls: first record does not look like a TLS handshake");
      // HTTP/1.1 in the clear (curl http://...): the connection is closed, unanswered.
      int seen = logs.matching("on the client port", "first record does not look like a TLS handshake").size();
      try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(CALL_SECONDS));
        s.getOutputStream().write("GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        int first;
        try {
          first = s.getInputStream().read();
        } catch (java.net.SocketException reset) {
          first = -1;
        }
        assertThat(first).as("no answer in the clear").isEqualTo(-1);
      }
      LocalCluster.await("the HTTP/1.1 attempt is logged too",
          () -> logs.matching("on the client port", "first record does not look like a TLS handshake").size() > seen);
    }
    range(port, good, good.dialingTrustManager(), true);
  }

  /** A channel presenting {@code m}'s certificate, sending {@code token} (if any) with every call. */
  private io.grpc.Channel tlsChannel(int port, TlsMaterial m, String token) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
        .trustManager(m.dialingTrustManager()).keyManager(m.keyManagerFactory());
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port)
        .sslContext(ssl.build()).negotiationType(NegotiationType.TLS).build();
    toClose.add(ch::shutdownNow);
    if (token == null) {
      return ch;
    }
    io.grpc.Metadata md = new io.grpc.Metadata();
    md.put(io.grpc.Metadata.Key.of("token", io.grpc.Metadata.ASCII_STRING_MARSHALLER), token);
    return io.grpc.ClientInterceptors.intercept(ch, io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md));
  }

  @Test
  void clientCertAuth_commonNameIsTheUser_unlessATokenNamesAnother() throws Exception {
    int port = serve(HTTPS_ANY_PORT, fixtureServer(true, null), List.of());
    // server2.crt's subject is CN=example2.com.
    TlsMaterial cert = client("server2.crt", "server2.key.insecure");
    io.grpc.Channel plain = tlsChannel(port, cert, null);
    AuthGrpc.AuthBlockingStub admin = AuthGrpc.newBlockingStub(plain).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    admin.userAdd(AuthUserAddRequest.newBuilder().setName("root").setPassword("root-secret").build());
    admin.roleAdd(AuthRoleAddRequest.newBuilder().setName("root").build());
    admin.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("root").setRole("root").build());
    admin.userAdd(AuthUserAddRequest.newBuilder().setName("example2.com")
        .setOptions(UserAddOptions.newBuilder().setNoPassword(true)).build());
    admin.roleAdd(AuthRoleAddRequest.newBuilder().setName("r").build());
    admin.roleGrantPermission(AuthRoleGrantPermissionRequest.newBuilder().setName("r").setPerm(Permission.newBuilder()
        .setKey(ByteString.copyFromUtf8("k")).setPermType(Permission.Type.READWRITE)).build());
    admin.userGrantRole(AuthUserGrantRoleRequest.newBuilder().setUser("example2.com").setRole("r").build());
    admin.authEnable(AuthEnableRequest.getDefaultInstance());

    // No token: the certificate's Common Name is the user.
    KVGrpc.KVBlockingStub asCert = KVGrpc.newBlockingStub(plain).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    asCert.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFromUtf8("v")).build());
    assertThat(asCert.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build()).getCount())
        .isEqualTo(1);
    assertThatThrownBy(() -> asCert.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("other"))
        .setValue(ByteString.copyFromUtf8("v")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: permission denied");
        });
    assertThat(AuthGrpc.newBlockingStub(plain).userGet(AuthUserGetRequest.newBuilder().setName("example2.com").build())
        .getRolesList()).containsExactly("r");
    // A certificate-only user cannot log in with a password.
    assertThatThrownBy(() -> admin.authenticate(AuthenticateRequest.newBuilder().setName("example2.com")
        .setPassword("x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
          assertThat(e.getStatus().getDescription())
              .isEqualTo("auth: authentication failed, password was given for no password user");
        });

    // A token names its own user, whatever the certificate says.
    String root = admin.authenticate(AuthenticateRequest.newBuilder().setName("root").setPassword("root-secret")
        .build()).getToken();
    KVGrpc.KVBlockingStub asRoot = KVGrpc.newBlockingStub(tlsChannel(port, cert, root))
        .withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    asRoot.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("other")).setValue(ByteString.copyFromUtf8("v"))
        .build());
    // And a bad token is refused even though the certificate would do.
    KVGrpc.KVBlockingStub badToken = KVGrpc.newBlockingStub(tlsChannel(port, cert, "nobody.1"))
        .withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
    assertThatThrownBy(() -> badToken.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: invalid auth token");
        });
  }

  @Test
  void start_clientNotTrustingTheServersCa_refusesTheServer() throws Exception {
    int port = serve(HTTPS_ANY_PORT, fixtureServer(false, null), List.of());
    TlsMaterial good = client("server.crt", "server.key.insecure");

    range(port, good, good.dialingTrustManager(), true);
    // The JDK's default roots do not include etcd's fixture CA.
    assertUnavailable(() -> range(port, good, defaultTrustManager(), true));
  }

  @Test
  void start_crl_rejectsTheRevokedClientCertificate() throws Exception {
    int port = serve(HTTPS_ANY_PORT, fixtureServer(true, "revoke.crl"), List.of());
    TlsMaterial revoked = client("server-revoked.crt", "server-revoked.key.insecure");
    TlsMaterial good = client("server.crt", "server.key.insecure");

    assertUnavailable(() -> range(port, revoked, revoked.dialingTrustManager(), true));
    range(port, good, good.dialingTrustManager(), true);
  }

  @Test
  void start_autoTls_servesASelfSignedCertificateFromTheDataDir() throws Exception {
    int port = serve(HTTPS_ANY_PORT, new TlsConfig(null, null, null, false, true, null, null, null), List.of());
    TlsMaterial insecure = client(null, null);

    range(port, insecure, insecure.dialingTrustManager(), false);
    assertThat(dir.resolve("m/fixtures/client/cert.pem")).exists();
    assertThat(dir.resolve("m/fixtures/client/key.pem")).exists();
  }

  @Test
  void start_httpsWithoutCertificate_failsWithEtcdMessage() {
    assertThatThrownBy(() -> serve(HTTPS_ANY_PORT, TlsConfig.NONE, List.of()))
        .isInstanceOf(TlsException.class)
        .hasMessageContaining("TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:0");
  }

  @Test
  void start_httpUrlWithCertificates_servesPlaintext() throws Exception {
    int port = serve(URI.create("http://127.0.0.1:0"), fixtureServer(true, null), List.of());
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      assertThat(KVGrpc.newBlockingStub(ch).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS)
          .range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("k")).setSerializable(true).build())
          .getCount()).isZero();
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(CALL_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void start_cipherSuites_clientOfferingOnlyOtherSuitesFailsTheHandshake() throws Exception {
    int port = serve(HTTPS_ANY_PORT, fixtureServer(false, null),
        List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"));
    TlsMaterial good = client("server.crt", "server.key.insecure");

    // A listed suite: the handshake completes, over TLS 1.2 even for a client that offers 1.3.
    try (SSLSocket s = socket(port, good, new String[] {"TLSv1.3", "TLSv1.2"},
        new String[] {"TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"})) {
      s.startHandshake();
      assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
      assertThat(s.getSession().getCipherSuite()).isEqualTo("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }
    // Only suites outside the list (and TLS 1.3, which the list shuts off): handshake_failure.
    try (SSLSocket s = socket(port, good, new String[] {"TLSv1.3", "TLSv1.2"},
        new String[] {"TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"})) {
      assertThatThrownBy(s::startHandshake).isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("handshake_failure");
    }
  }

  @Test
  void start_unknownCipherSuite_failsWithEtcdMessage() {
    assertThatThrownBy(() -> serve(HTTPS_ANY_PORT, fixtureServer(false, null), List.of("ECDHE-RSA-DES-CBC3-SHA")))
        .isInstanceOf(TlsException.class).hasMessage("unexpected TLS cipher suite \"ECDHE-RSA-DES-CBC3-SHA\"");
  }

  private static SSLSocket socket(int port, TlsMaterial m, String[] protocols, String[] suites) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    KeyManagerFactory kmf = m.keyManagerFactory();
    ctx.init(kmf.getKeyManagers(), new javax.net.ssl.TrustManager[] {m.dialingTrustManager()}, null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(CALL_SECONDS));
    s.setEnabledProtocols(protocols);
    s.setEnabledCipherSuites(suites);
    return s;
  }

  private static X509TrustManager defaultTrustManager() throws Exception {
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((java.security.KeyStore) null);
    return (X509TrustManager) tmf.getTrustManagers()[0];
  }
}
