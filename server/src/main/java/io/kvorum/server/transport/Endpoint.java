package io.kvorum.server.transport;

import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One peer URL made concrete: a TCP host and port ({@code http://host:port}) or a unix domain
 * socket. Unix URLs follow etcd: {@code unix://name:port} is the socket file {@code name:port}
 * relative to the working directory (etcd takes the URL's host as the path), and
 * {@code unix:///abs/path} is an absolute path. Domain sockets use gRPC's shaded netty epoll
 * transport, which ships natives for linux x86_64 and aarch64 ({@link #domainSocketsAvailable()}).
 */
record Endpoint(URI url, String host, int port, Path socketPath) {
  /** Threads of the epoll event loop that serves all domain socket connections of one owner. */
  private static final int DOMAIN_SOCKET_THREADS = 2;

  static Endpoint parse(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("unix") || scheme.equals("unixs")) {
      String authority = url.getRawAuthority() == null ? "" : url.getRawAuthority();
      String path = url.getPath() == null ? "" : url.getPath();
      if ((authority + path).isEmpty()) {
        throw new IllegalArgumentException("unix peer URL " + url + " names no socket file");
      }
      return new Endpoint(url, null, -1, Path.of(authority + path));
    }
    String host = url.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("peer URL " + url + " has no host");
    }
    if (url.getPort() < 0) {
      throw new IllegalArgumentException("peer URL " + url + " has no port");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new Endpoint(url, host, url.getPort(), null);
  }

  boolean isDomainSocket() {
    return socketPath != null;
  }

  static boolean domainSocketsAvailable() {
    return Epoll.isAvailable();
  }

  /** Throws unless domain sockets can be used here. */
  static void requireDomainSockets() {
    if (!domainSocketsAvailable()) {
      throw new IllegalStateException("unix peer sockets need netty epoll, which is unavailable here: "
          + Epoll.unavailabilityCause());
    }
  }

  /** The socket address this endpoint names. */
  SocketAddress socketAddress() {
    return isDomainSocket() ? new DomainSocketAddress(socketPath.toString()) : new InetSocketAddress(host, port);
  }

  /** An event loop for domain socket channels; the caller shuts it down. */
  static EventLoopGroup newDomainSocketGroup(String threadName) {
    requireDomainSockets();
    return new MultiThreadIoEventLoopGroup(DOMAIN_SOCKET_THREADS, new DefaultThreadFactory(threadName, true),
        EpollIoHandler.newFactory());
  }

  /** A channel builder dialing this endpoint; {@code domainGroup} serves domain sockets only. */
  NettyChannelBuilder channelBuilder(Supplier<EventLoopGroup> domainGroup) {
    if (isDomainSocket()) {
      return NettyChannelBuilder.forAddress(socketAddress())
          .eventLoopGroup(domainGroup.get())
          .channelType(EpollDomainSocketChannel.class)
          // gRPC sets TCP keepalive on every channel; a null value takes it off again (netty would
          // warn that a domain socket has no such option). gRPC's own HTTP/2 pings still run.
          .withOption(ChannelOption.SO_KEEPALIVE, null);
    }
    return NettyChannelBuilder.forAddress(host, port);
  }

  /**
   * A server builder listening on this endpoint with {@code credentials}; {@code domainGroup}
   * serves domain sockets only.
   */
  NettyServerBuilder serverBuilder(Supplier<EventLoopGroup> domainGroup, ServerCredentials credentials) {
    if (isDomainSocket()) {
      EventLoopGroup group = domainGroup.get();
      return NettyServerBuilder.forAddress(socketAddress(), credentials)
          .channelType(EpollServerDomainSocketChannel.class)
          .bossEventLoopGroup(group)
          .workerEventLoopGroup(group)
          .withChildOption(ChannelOption.SO_KEEPALIVE, null);
    }
    return NettyServerBuilder.forAddress(socketAddress(), credentials);
  }
}
