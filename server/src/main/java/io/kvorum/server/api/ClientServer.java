package io.kvorum.server.api;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.netty.shaded.io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.kvorum.server.api.http.Gateway;
import io.kvorum.server.api.http.PortSharing;
import io.kvorum.server.concurrency.Elections;
import io.kvorum.server.concurrency.Locks;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.tls.TlsException;
import io.kvorum.server.tls.TlsMaterial;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Serves etcd's gRPC services on every {@code --listen-client-urls} address, sharing each port with
 * the HTTP side ({@link ClientHttp}: JSON gateway, health, metrics). Request size is
 * limited as etcd limits it: the configured request bytes plus gRPC's overhead allowance.
 *
 * <p><b>TLS.</b> As in etcd, the scheme decides per URL: {@code https} serves TLS with the client
 * certificate ({@code --cert-file}/{@code --key-file}, or the self-signed one of
 * {@code --auto-tls}) and fails to start without one; {@code http} serves plaintext and ignores the
 * certificate, with a warning. With a trusted CA file or {@code --client-cert-auth}, clients must
 * present a certificate the CA signed and the CRL does not revoke; {@code --cipher-suites} limits
 * the suites (see {@link io.kvorum.server.tls.CipherSuites}). The JDK's TLS engine is used, as on
 * the peer side.
 */
public final class ClientServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ClientServer.class.getName());

  private final List<Server> servers = new ArrayList<>();
  /** The HTTP side: the gateway, health, metrics, and the metrics listeners. */
  private ClientHttp http;
  /** Sends watch responses for every stream (they never block: gRPC flow control decides). */
  private final ExecutorService watchSenders = Executors.newFixedThreadPool(2, daemon("kvorum-watch-send"));
  private WatchService watch;

  private ClientServer() {}

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  public static ClientServer start(EtcdServer server, List<URI> listenUrls) throws IOException {
    ServerConfig cfg = server.config();
    SslContext tls = null;
    if (cfg.clientTls.enabled()) {
      tls = sslContext(TlsMaterial.load("client", cfg.clientTls, cfg.cipherSuites, cfg.dataDir, listenUrls));
    }
    ClientServer cs = new ClientServer();
    WatchService watch = new WatchService(server, server.auth(), server.watchHub(), cs.watchSenders);
    cs.watch = watch;
    try {
      List<ServerServiceDefinition> services = services(server, watch);
      long maxMessageBytes = Math.min(Integer.MAX_VALUE, cfg.maxRequestBytes + EtcdServer.GRPC_OVERHEAD_BYTES);
      cs.http = ClientHttp.start(server, services, maxMessageBytes, tls);
      for (URI u : listenUrls) {
        boolean secure = isSecure(u);
        if (secure && tls == null) {
          throw new TlsException("TLS key/cert (--cert-file, --key-file) must be provided for client url " + u
              + " with HTTPS scheme");
        }
        if (!secure && cfg.clientTls.hasCertFiles()) {
          LOG.log(System.Logger.Level.WARNING,
              "scheme is HTTP while key and cert files are present; ignoring key and cert files (client-url {0})", u);
        }
        String host = u.getHost() == null ? "0.0.0.0" : u.getHost();
        int port = u.getPort();
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            // Every handler only checks, proposes or hands off (reads run on the member's reader
            // pool), so calls run on the transport threads: no executor hop per call.
            .directExecutor()
            .maxInboundMessageSize((int) maxMessageBytes)
            // grpc-go reads 0 as no limit, as does the gateway's share.
            .maxConcurrentCallsPerConnection(cfg.maxConcurrentStreams <= 0 ? Integer.MAX_VALUE
                : (int) Math.min(Integer.MAX_VALUE, cfg.maxConcurrentStreams))
            // gRPC and HTTP/1.1 share the port: the negotiator picks per connection (TLS included).
            .protocolNegotiator(new PortSharing(secure ? tls : null, cs.http.site()));
        services.forEach(s -> b.addService(UnmarshalRefusal.around(s)));
        keepAlive(b, cfg);
        Server s = b.build().start();
        cs.servers.add(s);
      }
    } catch (IOException | RuntimeException e) {
      cs.close();
      throw e;
    }
    return cs;
  }

  /** The member's services as every client reaches them: through the same interceptors. */
  private static List<ServerServiceDefinition> services(EtcdServer server, WatchService watch) {
    List<BindableService> bound = List.of(
        new KvService(server, server.kv(), server.auth()),
        new MaintenanceService(server, server, server.auth()),
        new ClusterService(server, server, server.auth()),
        new LeaseService(server, server.leases(), server.auth()),
        new AuthService(server, server.auth()),
        watch,
        new ElectionService(server, new Elections(server.kv(), server.leases(), server.auth(), server.watchHub())),
        new LockService(server, new Locks(server.kv(), server.leases(), server.auth(), server.watchHub())));
    // The last interceptor runs first: learners refuse, then the leader requirement, then
    // credentials; gRPC's metrics count inside those checks, as go-grpc-prometheus does in etcd.
    List<ServerInterceptor> interceptors = List.of(new GrpcMetrics(server.metrics().grpc()), new CallerCredentials(),
        new RequireLeader(server), new LearnerGuard(server));
    List<ServerServiceDefinition> out = new ArrayList<>();
    for (BindableService s : bound) {
      out.add(ServerInterceptors.intercept(s, interceptors));
    }
    return out;
  }

  /**
   * etcd's {@code --grpc-keepalive-*}, applied as etcd applies them: the minimum ping interval only
   * when positive, the server's ping interval and timeout only when both are; otherwise gRPC's
   * defaults (5 minutes; 2 hours and 20 seconds), which are grpc-go's too.
   */
  static void keepAlive(NettyServerBuilder b, ServerConfig cfg) {
    if (cfg.grpcKeepAliveMinTime.compareTo(java.time.Duration.ZERO) > 0) {
      b.permitKeepAliveTime(cfg.grpcKeepAliveMinTime.toNanos(), TimeUnit.NANOSECONDS);
    }
    if (cfg.grpcKeepAliveInterval.compareTo(java.time.Duration.ZERO) > 0
        && cfg.grpcKeepAliveTimeout.compareTo(java.time.Duration.ZERO) > 0) {
      b.keepAliveTime(cfg.grpcKeepAliveInterval.toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveTimeout(cfg.grpcKeepAliveTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** True for the schemes etcd serves TLS on. */
  static boolean isSecure(URI u) {
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    return scheme.equals("https") || scheme.equals("unixs");
  }

  /** The server side of client TLS: gRPC's HTTP/2 settings on the JDK engine, with the member's rules. */
  static SslContext sslContext(TlsMaterial m) throws SSLException {
    SslContextBuilder b = GrpcSslContexts.configure(SslContextBuilder.forServer(m.keyManagerFactory()), SslProvider.JDK)
        .trustManager(m.acceptingTrustManager())
        .clientAuth(m.clientCertRequired() ? ClientAuth.REQUIRE : ClientAuth.NONE)
        .protocols(m.protocols())
        // HTTP/1.1 first: a client that offers it (curl, browsers) is served the HTTP side; gRPC
        // clients offer only h2 (see PortSharing).
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_1_1, ApplicationProtocolNames.HTTP_2, "grpc-exp"));
    if (!m.cipherSuites().isEmpty()) {
      b.ciphers(m.cipherSuites(), SupportedCipherSuiteFilter.INSTANCE);
    }
    return b.build();
  }

  /** The JSON gateway all client URLs share. */
  public Gateway gateway() {
    return http.gateway();
  }

  /** The bound ports of {@code --listen-metrics-urls}, in order. */
  public List<Integer> metricsPorts() {
    return http.metricsPorts();
  }

  /** The bound ports, in listen-URL order (useful with port 0). */
  public List<Integer> ports() {
    return servers.stream().map(Server::getPort).toList();
  }

  @Override
  public void close() {
    if (watch != null) {
      watch.close();
    }
    for (Server s : servers) {
      s.shutdownNow();
    }
    if (http != null) {
      http.close();
    }
    watchSenders.shutdown();
    for (Server s : servers) {
      try {
        s.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
