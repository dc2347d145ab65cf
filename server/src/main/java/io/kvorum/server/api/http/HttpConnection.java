package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import javax.net.ssl.SSLSession;

/**
 * One HTTP/1.1 connection: hands each request to the exchange its route opens, feeds it the body,
 * and cancels it if the connection goes away. Requests are answered one at a time; a client that
 * pipelines a request before the previous answer is complete is disconnected.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(HttpConnection.class.getName());

  private final HttpSite site;
  private final SSLSession session;
  private Exchange current;
  /** True while the body of a request the connection refused is still arriving. */
  private boolean discarding;

  HttpConnection(HttpSite site, SSLSession session) {
    this.site = site;
    this.session = session;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest req) {
        if (current != null && !current.done()) {
          ctx.close();
          return;
        }
        discarding = false;
        if (req.decoderResult().isFailure()) {
          Responses.send(ctx, Responses.error(400, "Bad Request"), false);
          discarding = true;
          current = null;
          return;
        }
        current = site.open(ctx, req, session, HttpUtil.isKeepAlive(req));
      }
      if (msg instanceof HttpContent c && current != null && !discarding) {
        if (c.content().isReadable()) {
          current.content(c.content());
        }
        if (c instanceof LastHttpContent) {
          current.end();
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (current != null) {
      current.cancel();
      current = null;
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(System.Logger.Level.DEBUG, "HTTP connection failed", cause);
    ctx.close();
  }
}
