package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import io.kvorum.server.tls.TlsFailures;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP-only listener ({@code --listen-metrics-urls}): one event loop thread serving a site,
 * with the client TLS settings on {@code https} URLs, as etcd's metrics listeners.
 */
public final class HttpListener implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;

  private HttpListener(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  public static HttpListener start(InetSocketAddress address, SslContext tls, HttpSite site) throws IOException {
    ThreadFactory threads = r -> {
      Thread t = new Thread(r, "kvorum-metrics-http");
      t.setDaemon(true);
      return t;
    };
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, threads, NioIoHandler.newFactory());
    ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls == null) {
              ch.pipeline().addLast("anchor", new ChannelInboundHandlerAdapter());
              site.install(ch.pipeline(), "anchor", null);
              ch.pipeline().remove("anchor");
              return;
            }
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
            ch.pipeline().addLast("handshake", new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof SslHandshakeCompletionEvent done) {
                  if (!done.isSuccess()) {
                    TlsFailures.logRejected("metrics", ctx.channel().remoteAddress(), done.cause());
                    ctx.close();
                    return;
                  }
                  site.install(ctx.pipeline(), ctx.name(),
                      ctx.pipeline().get(SslHandler.class).engine().getSession());
                  ctx.pipeline().remove(this);
                  return;
                }
                ctx.fireUserEventTriggered(evt);
              }
            });
          }
        });
    try {
      Channel ch = b.bind(address).sync().channel();
      return new HttpListener(group, ch);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IOException("interrupted while binding " + address, e);
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
