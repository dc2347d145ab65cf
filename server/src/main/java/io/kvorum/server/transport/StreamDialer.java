package io.kvorum.server.transport;

import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * What a member's raft streams ({@link OutboundRaftStream}) dial with: one event loop thread for
 * all of them (epoll where netty has it, which domain sockets need; NIO elsewhere), created on
 * first use, and the member's peer security.
 */
final class StreamDialer implements AutoCloseable {
  /** Unanswered keep-alive probes after which the kernel drops a connection. */
  private static final int KEEP_ALIVE_PROBES = 3;

  private final String threadName;
  private final PeerSecurity security;
  private EventLoopGroup group;
  private boolean closed;

  StreamDialer(String threadName, PeerSecurity security) {
    this.threadName = threadName;
    this.security = security;
  }

  /**
   * A bootstrap on the dialer's event loop for {@code ep}'s kind of socket. A TCP stream gets the
   * kernel's keep-alive at the pace of {@code settings} (gRPC's pings did that before): a peer that
   * vanished without a reset is given up within about keep-alive time plus three probes, and
   * unacknowledged writes within keep-alive time plus timeout; the sender then reconnects.
   */
  Bootstrap bootstrap(Endpoint ep, TransportSettings settings) {
    // Netty's epoll transport: what domain sockets need, and for TCP the cheaper one where it runs.
    boolean epoll = Endpoint.domainSocketsAvailable();
    if (ep.isDomainSocket()) {
      Endpoint.requireDomainSockets();
    }
    Bootstrap b = new Bootstrap().group(group(epoll));
    if (ep.isDomainSocket()) {
      return b.channel(EpollDomainSocketChannel.class);
    }
    b.channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
        // One small frame per raft round trip: never wait for more to fill a segment.
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true);
    if (epoll) {
      int idleS = (int) Math.max(1, settings.keepAliveTime().toSeconds());
      int probeS = (int) Math.max(1, settings.keepAliveTimeout().toSeconds() / KEEP_ALIVE_PROBES);
      b.option(EpollChannelOption.TCP_KEEPIDLE, idleS)
          .option(EpollChannelOption.TCP_KEEPINTVL, probeS)
          .option(EpollChannelOption.TCP_KEEPCNT, KEEP_ALIVE_PROBES)
          .option(EpollChannelOption.TCP_USER_TIMEOUT,
              (int) settings.keepAliveTime().plus(settings.keepAliveTimeout()).toMillis());
    }
    return b;
  }

  /** The TLS handler a stream to {@code ep} starts after its magic, or null for a plaintext URL. */
  SslHandler tlsHandler(ByteBufAllocator alloc, Endpoint ep) {
    return security.clientTlsHandler(alloc, ep);
  }

  private synchronized EventLoopGroup group(boolean epoll) {
    if (closed) {
      throw new IllegalStateException("the transport is closed");
    }
    if (group == null) {
      group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadName, true),
          epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }
    return group;
  }

  @Override
  public void close() {
    EventLoopGroup g;
    synchronized (this) {
      closed = true;
      g = group;
    }
    if (g != null) {
      g.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    }
  }
}
