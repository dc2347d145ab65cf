package io.kvorum.server.transport;

import io.grpc.internal.ObjectPool;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelOutboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import io.kvorum.server.tls.TlsFailures;
import java.util.concurrent.Executor;

/**
 * Lets the gRPC server's port carry raft streams too: a protocol negotiator placed in front of
 * gRPC's own (plaintext or TLS) that looks at the first bytes of each accepted connection. A
 * connection that opens with {@link RaftStreams#MAGIC} becomes a raft stream (the installer adds
 * its handlers, TLS included); any other is handed to gRPC's negotiator untouched, with the bytes
 * read so far and the negotiation event gRPC fired meanwhile. This class is the one place that uses
 * grpc-netty's negotiator hooks (its {@code Internal*} API, pinned by the gRPC version in the pom).
 */
final class StreamSniffer {
  /** Sets a raft stream up on a connection; called on its event loop, after the magic. */
  @FunctionalInterface
  interface Installer {
    /** Adds the stream's handlers to {@code pipeline} after the handler named {@code after}. */
    void install(ChannelPipeline pipeline, String after);
  }

  private StreamSniffer() {}

  /** Logs connection {@code ch} as rejected if the handshake of its {@code tls} fails. */
  static void logFailedHandshake(Channel ch, SslHandler tls) {
    tls.handshakeFuture().addListener(f -> {
      if (!f.isSuccess()) {
        TlsFailures.logRejected("peer", ch.remoteAddress(), f.cause());
      }
    });
  }

  /** gRPC's server negotiator {@code grpc}, with raft streams recognised in front of it. */
  static InternalProtocolNegotiator.ServerFactory wrap(InternalProtocolNegotiator.ProtocolNegotiator grpc,
      Installer raft) {
    return new InternalProtocolNegotiator.ServerFactory() {
      @Override
      public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator(ObjectPool<? extends Executor> pool) {
        return new InternalProtocolNegotiator.ProtocolNegotiator() {
          @Override
          public AsciiString scheme() {
            return grpc.scheme();
          }

          @Override
          public ChannelHandler newHandler(GrpcHttp2ConnectionHandler handler) {
            return new Sniffer(grpc.newHandler(handler), raft);
          }

          @Override
          public void close() {
            grpc.close();
          }
        };
      }
    };
  }

  /** Lets bytes through toward the socket and fails anything else written from gRPC's side. */
  private static final class DropTransportCommands extends ChannelOutboundHandlerAdapter {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf) {
        ctx.write(msg, promise);
      } else {
        ReferenceCountUtil.release(msg);
        promise.tryFailure(new UnsupportedOperationException("a raft stream takes no gRPC transport commands"));
      }
    }
  }

  /** One connection's first handler until its first bytes decide what it is. */
  private static final class Sniffer extends ChannelInboundHandlerAdapter {
    private final ChannelHandler grpc;
    private final Installer raft;
    private ProtocolNegotiationEvent negotiation;
    private ByteBuf seen;

    Sniffer(ChannelHandler grpc, Installer raft) {
      this.grpc = grpc;
      this.raft = raft;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ProtocolNegotiationEvent e) {
        // gRPC starts its negotiation with this event; it is replayed to gRPC's handler if it gets one.
        negotiation = e;
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      if (seen == null) {
        seen = in;
      } else {
        ByteBuf both = ctx.alloc().buffer(seen.readableBytes() + in.readableBytes());
        both.writeBytes(seen).writeBytes(in);
        seen.release();
        in.release();
        seen = both;
      }
      byte[] magic = RaftStreams.MAGIC;
      int n = Math.min(seen.readableBytes(), magic.length);
      for (int i = 0; i < n; i++) {
        if (seen.getByte(seen.readerIndex() + i) != magic[i]) {
          toGrpc(ctx);
          return;
        }
      }
      if (n == magic.length) {
        toRaft(ctx);
      }
    }

    private void toGrpc(ChannelHandlerContext ctx) {
      ByteBuf bytes = seen;
      seen = null;
      ctx.pipeline().addAfter(ctx.name(), null, grpc);
      if (negotiation != null) {
        ctx.fireUserEventTriggered(negotiation);
      }
      // On the negotiation event gRPC's TLS negotiator put its TLS handler in front of itself: a
      // failed handshake is logged here, as etcd's listener logs it (gRPC logs it at debug level).
      SslHandler tls = ctx.pipeline().get(SslHandler.class);
      if (tls != null) {
        logFailedHandshake(ctx.channel(), tls);
      }
      ctx.fireChannelRead(bytes);
      ctx.pipeline().remove(this);
    }

    private void toRaft(ChannelHandlerContext ctx) {
      ByteBuf rest = seen.skipBytes(RaftStreams.MAGIC.length);
      seen = null;
      // gRPC still counts the connection as one of its transports waiting for its handshake: the
      // handler it placed after this one closes the connection on gRPC's transport commands
      // (the forced close when its handshake deadline, 120 s, passes). A raft stream is not
      // gRPC's to close: the commands are dropped instead.
      String grpcBuffer = nameAfter(ctx);
      if (grpcBuffer != null) {
        ctx.pipeline().replace(grpcBuffer, "raft-no-grpc-commands", new DropTransportCommands());
      }
      raft.install(ctx.pipeline(), ctx.name());
      if (rest.isReadable()) {
        ctx.fireChannelRead(rest);
      } else {
        rest.release();
      }
      ctx.pipeline().remove(this);
    }

    /** The name of the handler after this one, or null. */
    private static String nameAfter(ChannelHandlerContext ctx) {
      boolean found = false;
      for (java.util.Map.Entry<String, ChannelHandler> e : ctx.pipeline()) {
        if (found) {
          return e.getKey();
        }
        found = e.getKey().equals(ctx.name());
      }
      return null;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      if (seen != null) {
        seen.release();
        seen = null;
      }
    }
  }
}
