package io.kvorum.server.api.http;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.internal.GrpcAttributes;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.kvorum.server.tls.TlsFailures;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLSession;

/**
 * One client port for gRPC and HTTP/1.1, as etcd's cmux gives it: a gRPC-netty protocol negotiator
 * that looks at a connection's first bytes (after the TLS handshake on {@code https} URLs) and
 * hands the connection either to gRPC, untouched from then on, or to the {@link HttpSite}.
 *
 * <p><b>Design.</b> The decision is per connection, made once, so the gRPC path has no extra hop:
 * after it, the pipeline is exactly gRPC's own (TLS handler, then gRPC's HTTP/2 handler), with
 * the session attributes gRPC's TLS negotiator would have set. HTTP/2 connections always carry
 * gRPC — as in etcd 3.4's plaintext cmux. Over TLS etcd routes each HTTP/2 request by content type
 * instead; Kvorum gets the same result at ALPN: the server prefers {@code http/1.1}, so a client
 * that offers it (curl, browsers, Go's net/http) is served HTTP/1.1, and gRPC clients, which offer
 * only {@code h2}, get HTTP/2. A JSON client that offers only {@code h2} over TLS is the one case
 * etcd serves and Kvorum does not (README, differences).
 */
public final class PortSharing implements InternalProtocolNegotiator.ProtocolNegotiator {
  /** The HTTP/2 connection preface a gRPC client sends first. */
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final SslContext tls;
  private final HttpSite site;

  /** {@code tls} is null on {@code http} URLs. */
  public PortSharing(SslContext tls, HttpSite site) {
    this.tls = tls;
    this.site = site;
  }

  @Override
  public AsciiString scheme() {
    return AsciiString.of(tls == null ? "http" : "https");
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    return new Sniffer(grpcHandler);
  }

  @Override
  public void close() {}

  /** Waits for the handshake (if any) and the first bytes, then installs gRPC or HTTP. */
  private final class Sniffer extends ByteToMessageDecoder {
    private final GrpcHttp2ConnectionHandler grpc;
    private SSLSession session;

    Sniffer(GrpcHttp2ConnectionHandler grpc) {
      this.grpc = grpc;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      if (tls != null) {
        ctx.pipeline().addBefore(ctx.name(), null, tls.newHandler(ctx.alloc()));
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent done) {
        if (!done.isSuccess()) {
          TlsFailures.logRejected("client", ctx.channel().remoteAddress(), done.cause());
          ctx.close();
          return;
        }
        session = ctx.pipeline().get(SslHandler.class).engine().getSession();
        return;
      }
      if (evt instanceof ProtocolNegotiationEvent) {
        // gRPC's own start signal is not needed: the sniffer sends its own when it hands over.
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (tls != null && session == null) {
        return;
      }
      int n = Math.min(in.readableBytes(), PREFACE.length);
      boolean http2 = true;
      for (int i = 0; i < n; i++) {
        if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
          http2 = false;
          break;
        }
      }
      if (http2 && n < PREFACE.length) {
        return;
      }
      if (http2) {
        toGrpc(ctx);
      } else {
        grpc.notifyUnused();
        site.install(ctx.pipeline(), ctx.name(), session);
      }
      // Removing the decoder passes the bytes read so far to the handler after it.
      ctx.pipeline().remove(this);
    }

    private void toGrpc(ChannelHandlerContext ctx) {
      Attributes.Builder attrs = Attributes.newBuilder()
          .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, ctx.channel().localAddress())
          .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, ctx.channel().remoteAddress());
      ProtocolNegotiationEvent pne = InternalProtocolNegotiationEvent.getDefault();
      if (session != null) {
        attrs.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session)
            .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY);
        pne = InternalProtocolNegotiationEvent.withSecurity(pne,
            new InternalChannelz.Security(new InternalChannelz.Tls(session)));
      } else {
        attrs.set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.NONE);
      }
      pne = InternalProtocolNegotiationEvent.withAttributes(pne, attrs.build());
      ctx.pipeline().addAfter(ctx.name(), null, InternalProtocolNegotiators.grpcNegotiationHandler(grpc));
      // gRPC's negotiation handler replaces itself with gRPC's HTTP/2 handler on this event.
      ctx.fireUserEventTriggered(pne);
    }
  }
}
