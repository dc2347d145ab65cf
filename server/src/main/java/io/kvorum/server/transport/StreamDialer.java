package io.kvorum.server.transport;

import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a member's raft streams ({@link OutboundRaftStream}) dial with: an event loop thread for
 * all of them, created on first use (NIO for TCP, whose JDK sockets the streams also write to
 * directly; epoll for domain sockets, which only it has), and the member's peer security.
 */
final class StreamDialer implements AutoCloseable {
  private final String threadName;
  private final PeerSecurity security;
  private EventLoopGroup tcpGroup;
  private EventLoopGroup domainGroup;
  private boolean closed;

  StreamDialer(String threadName, PeerSecurity security) {
    this.threadName = threadName;
    this.security = security;
  }

  /**
   * A bootstrap on the dialer's event loop for {@code ep}'s kind of socket. A dead peer is noticed
   * by the stream's own keep-alive ({@link OutboundRaftStream}), not the kernel's.
   */
  Bootstrap bootstrap(Endpoint ep) {
    if (ep.isDomainSocket()) {
      Endpoint.requireDomainSockets();
      return new Bootstrap().group(group(true)).channel(EpollDomainSocketChannel.class);
    }
    return new Bootstrap().group(group(false))
        .channelFactory((ChannelFactory<DirectSocketChannel>) DirectSocketChannel::new)
        // One small frame per raft round trip: never wait for more to fill a segment.
        .option(ChannelOption.TCP_NODELAY, true);
  }

  /** The TLS handler a stream to {@code ep} starts after its magic, or null for a plaintext URL. */
  SslHandler tlsHandler(ByteBufAllocator alloc, Endpoint ep) {
    return security.clientTlsHandler(alloc, ep);
  }

  private synchronized EventLoopGroup group(boolean domain) {
    if (closed) {
      throw new IllegalStateException("the transport is closed");
    }
    if (domain) {
      if (domainGroup == null) {
        domainGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadName + "-unix", true),
            EpollIoHandler.newFactory());
      }
      return domainGroup;
    }
    if (tcpGroup == null) {
      tcpGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadName, true),
          NioIoHandler.newFactory());
    }
    return tcpGroup;
  }

  @Override
  public void close() {
    List<EventLoopGroup> groups = new ArrayList<>(2);
    synchronized (this) {
      closed = true;
      if (tcpGroup != null) {
        groups.add(tcpGroup);
      }
      if (domainGroup != null) {
        groups.add(domainGroup);
      }
    }
    for (EventLoopGroup g : groups) {
      g.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    }
  }
}
