package io.kvorum.server.api;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.server.api.http.Gateway;
import io.kvorum.server.api.http.HealthChecks;
import io.kvorum.server.api.http.HttpListener;
import io.kvorum.server.api.http.HttpSite;
import io.kvorum.server.api.http.MetricsPage;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.server.metrics.Metrics;
import io.kvorum.server.tls.TlsException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The HTTP side of a member's client edge, wired to the member: the JSON gateway with its
 * in-process channel to the member's services (as {@link ClientServer} binds them), the health
 * checks and the metrics page behind the client URLs' site, and the {@code --listen-metrics-urls}
 * listeners. {@link ClientServer} puts the site on its gRPC ports.
 */
final class ClientHttp implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ClientHttp.class.getName());
  /** Makes each member's in-process server name unique within the JVM. */
  private static final AtomicLong GATEWAYS = new AtomicLong();

  private final List<HttpListener> metricsListeners = new ArrayList<>();
  private Server inProcess;
  private ManagedChannel channel;
  private Gateway gateway;
  private HttpSite site;

  private ClientHttp() {}

  /**
   * @param services the member's services, interceptors included
   * @param maxMessageBytes the gRPC server's limit on a request message
   * @param tls the client TLS context ({@code https} metrics URLs use it), or null
   */
  static ClientHttp start(EtcdServer server, List<ServerServiceDefinition> services, long maxMessageBytes,
      SslContext tls) throws IOException {
    ServerConfig cfg = server.config();
    ClientHttp h = new ClientHttp();
    try {
      String name = "kvorum-gateway-" + Long.toHexString(server.memberId()) + "-" + GATEWAYS.incrementAndGet();
      InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
      services.forEach(s -> b.addService(UnmarshalRefusal.around(s)));
      h.inProcess = b.build().start();
      h.channel = InProcessChannelBuilder.forName(name).directExecutor().build();
      h.gateway = new Gateway(services, h.channel, cfg.maxConcurrentStreams, maxMessageBytes,
          () -> server.authStore().isEnabled());
      HealthChecks health = healthChecks(server);
      MetricsPage metrics = metricsPage(server.metrics());
      h.site = HttpSite.client(h.gateway, health, metrics,
          new HttpSite.Access(Set.copyOf(cfg.cors), Set.copyOf(cfg.hostWhitelist), cfg.clientTls.clientCertAuth()));
      if (!cfg.listenMetricsUrls.isEmpty()) {
        HttpSite metricsSite = HttpSite.metricsOnly(health, metrics);
        for (URI u : cfg.listenMetricsUrls) {
          boolean secure = ClientServer.isSecure(u);
          if (secure && tls == null) {
            throw new TlsException("TLS key/cert (--cert-file, --key-file) must be provided for metrics url " + u
                + " with HTTPS scheme");
          }
          String host = u.getHost() == null ? "0.0.0.0" : u.getHost();
          h.metricsListeners.add(HttpListener.start(new InetSocketAddress(host, u.getPort()),
              secure ? tls : null, metricsSite));
          LOG.log(System.Logger.Level.INFO, "serving metrics on {0}", u);
        }
      }
    } catch (IOException | RuntimeException e) {
      h.close();
      throw e;
    }
    return h;
  }

  HttpSite site() {
    return site;
  }

  Gateway gateway() {
    return gateway;
  }

  List<Integer> metricsPorts() {
    return metricsListeners.stream().map(HttpListener::port).toList();
  }

  /** The member's registry as {@code /metrics} serves it. */
  private static MetricsPage metricsPage(Metrics metrics) {
    return new MetricsPage() {
      @Override
      public String contentType() {
        return metrics.contentType();
      }

      @Override
      public void write(OutputStream out) throws IOException {
        metrics.scrape(out);
      }
    };
  }

  private static HealthChecks healthChecks(EtcdServer server) {
    HealthChecks.Member member = new HealthChecks.Member() {
      @Override
      public long leader() {
        return server.leader();
      }

      @Override
      public List<String> activeAlarms() {
        return server.alarms().stream().map(a -> a.getAlarm().name()).toList();
      }

      @Override
      public CompletableFuture<Void> quorumRead() {
        return server.linearizableReadNotify();
      }

      @Override
      public CompletableFuture<Void> serializableRead() {
        return server.kv().range(RequestContext.MEMBER, RangeRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8("health")).setSerializable(true).setLimit(1).setKeysOnly(true).build())
            .thenApply(r -> null);
      }

      @Override
      public void healthChecked(boolean healthy) {
        if (healthy) {
          server.metrics().healthSucceeded();
        } else {
          server.metrics().healthFailed();
        }
      }
    };
    return new HealthChecks(member, server.clock(), EtcdServer.SERVER_VERSION, () -> EtcdServer.CLUSTER_VERSION);
  }

  @Override
  public void close() {
    for (HttpListener l : metricsListeners) {
      l.close();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (inProcess != null) {
      inProcess.shutdownNow();
    }
  }
}
