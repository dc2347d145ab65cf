package io.kvorum.server.api;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.kvorum.server.etcdserver.EtcdServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Serves etcd's gRPC services on every {@code --listen-client-urls} address. Request size is
 * limited as etcd limits it: the configured request bytes plus gRPC's overhead allowance.
 */
public final class ClientServer implements AutoCloseable {
  /** etcd adds this to --max-request-bytes for the gRPC message limit. */
  static final int GRPC_OVERHEAD_BYTES = 512 * 1024;

  private final List<Server> servers = new ArrayList<>();

  private ClientServer() {}

  public static ClientServer start(EtcdServer server, List<URI> listenUrls) throws IOException {
    ClientServer cs = new ClientServer();
    try {
      for (URI u : listenUrls) {
        String host = u.getHost() == null ? "0.0.0.0" : u.getHost();
        int port = u.getPort();
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, server.config().maxRequestBytes
                + GRPC_OVERHEAD_BYTES))
            .addService(new KvService(server))
            .addService(new MaintenanceService(server))
            .addService(new ClusterService(server))
            .build()
            .start();
        cs.servers.add(s);
      }
    } catch (IOException | RuntimeException e) {
      cs.close();
      throw e;
    }
    return cs;
  }

  /** The bound ports, in listen-URL order (useful with port 0). */
  public List<Integer> ports() {
    return servers.stream().map(Server::getPort).toList();
  }

  @Override
  public void close() {
    for (Server s : servers) {
      s.shutdownNow();
    }
    for (Server s : servers) {
      try {
        s.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
