package io.kvorum.server.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.WriteBufferWaterMark;
import io.grpc.netty.shaded.io.netty.handler.codec.DecoderException;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.timeout.IdleStateEvent;
import io.grpc.netty.shaded.io.netty.handler.timeout.IdleStateHandler;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.StreamStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The sending end of one raft stream ({@link RaftStreams}) to one peer: a netty connection that
 * says who it is, waits for the peer's yes, then carries message batches. Writes may come from any
 * thread (netty runs them on the connection's event loop, in the order they were made); readiness
 * and the end of the stream are reported through {@code onChange}, which must not block.
 */
final class OutboundRaftStream {
  private final Runnable onChange;
  /** Set by {@link #open} before it returns; the event loop's callbacks use their own context. */
  private Channel channel;
  private volatile boolean accepted;
  private volatile Status broken;
  /** The JDK socket, once accepted on a plaintext TCP connection: frames may be written to it directly. */
  private volatile SocketChannel direct;
  /** Frames handed to the event loop and not yet written out; direct writes wait for none. */
  private final AtomicInteger onLoop = new AtomicInteger();
  /** Batches written; sender thread only. */
  long sentBatches;

  private OutboundRaftStream(Runnable onChange) {
    this.onChange = onChange;
  }

  /**
   * Dials {@code ep} on the dialer's event loop. The stream is ready once the peer accepted it
   * within {@code settings.dialTimeout()}; otherwise it is broken with the reason.
   */
  static OutboundRaftStream open(StreamDialer dialer, Endpoint ep, ProbeRequest hello, TransportSettings settings,
      Runnable onChange) {
    int timeoutMs = (int) Math.min(Integer.MAX_VALUE, settings.dialTimeout().toMillis());
    OutboundRaftStream s = new OutboundRaftStream(onChange);
    long silenceMs = settings.keepAliveTime().plus(settings.keepAliveTimeout()).toMillis();
    Bootstrap b = dialer.bootstrap(ep)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMs)
        // Up to about two batches queued in netty; beyond, the sender's own queue takes over.
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(settings.batchBytesMax(), 2 * settings.batchBytesMax()))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new IdleStateHandler(silenceMs, 0, 0, TimeUnit.MILLISECONDS),
                RaftStreams.frameDecoder(settings.messageBytesMax()), s.new Handler(dialer, ep, hello, silenceMs));
          }
        });
    ChannelFuture connecting = b.connect(ep.socketAddress());
    Channel ch = connecting.channel();
    s.channel = ch;
    connecting.addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        s.fail(ch, Status.UNAVAILABLE.withDescription("connection failed: " + f.cause().getMessage())
            .withCause(f.cause()));
      }
    });
    ch.eventLoop().schedule(() -> {
      if (!s.accepted) {
        s.fail(ch, Status.DEADLINE_EXCEEDED.withDescription("the peer did not accept the stream within "
            + timeoutMs + " ms"));
      }
    }, timeoutMs, TimeUnit.MILLISECONDS);
    return s;
  }

  /** Accepted by the peer, not broken, and netty's buffer below its high-water mark. */
  boolean isReady() {
    return accepted && broken == null && channel.isWritable();
  }

  /** Why the stream ended, or null while it is open. */
  Status broken() {
    return broken;
  }

  /** Writes {@code batch}; a failure shows as {@link #broken()}. */
  void send(MessageBatch batch) {
    ByteBuf frame = RaftStreams.frame(channel.alloc(), batch);
    sentBatches++;
    SocketChannel socket = direct;
    if (socket == null) {
      // TLS or a domain socket: the event loop writes every frame, so there is nothing to count.
      channel.writeAndFlush(frame, channel.voidPromise());
      return;
    }
    if (onLoop.get() == 0 && frame.nioBufferCount() == 1) {
      try {
        ByteBuffer bytes = frame.nioBuffer();
        frame.skipBytes(socket.write(bytes));
      } catch (IOException e) {
        frame.release();
        Channel ch = channel;
        ch.eventLoop().execute(() -> fail(ch, Status.UNAVAILABLE.withDescription(e.toString()).withCause(e)));
        return;
      }
      if (!frame.isReadable()) {
        frame.release();
        return;
      }
    }
    onLoop.incrementAndGet();
    channel.writeAndFlush(frame).addListener(f -> onLoop.decrementAndGet());
  }

  /** Closes the stream once what was written has gone out. */
  void finish() {
    direct = null;
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  private void fail(Channel ch, Status status) {
    if (broken == null) {
      direct = null;
      broken = status;
      ch.close();
      onChange.run();
    }
  }

  /** The connection's end of the stream, on its event loop. */
  private final class Handler extends ChannelInboundHandlerAdapter {
    private final StreamDialer dialer;
    private final Endpoint ep;
    private final ProbeRequest hello;
    private final long silenceMs;

    Handler(StreamDialer dialer, Endpoint ep, ProbeRequest hello, long silenceMs) {
      this.dialer = dialer;
      this.ep = ep;
      this.hello = hello;
      this.silenceMs = silenceMs;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      // The magic goes out in the clear, before any TLS handshake: the peer's port sniffs for it.
      ctx.writeAndFlush(Unpooled.wrappedBuffer(RaftStreams.MAGIC));
      SslHandler tls = dialer.tlsHandler(ctx.alloc(), ep);
      if (tls == null) {
        ctx.writeAndFlush(RaftStreams.frame(ctx.alloc(), hello));
      } else {
        ctx.pipeline().addFirst(tls);
        tls.handshakeFuture().addListener(f -> {
          if (f.isSuccess()) {
            ctx.writeAndFlush(RaftStreams.frame(ctx.alloc(), hello));
          }
        });
      }
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf frame = (ByteBuf) msg;
      try {
        StreamStatus st = RaftStreams.parse(frame, StreamStatus.parser());
        if (st.getCode() != 0) {
          fail(ctx.channel(), Status.fromCodeValue(st.getCode()).withDescription(st.getDescription()));
        } else if (!accepted) {
          if (ctx.pipeline().get(SslHandler.class) == null && ctx.channel() instanceof DirectSocketChannel d) {
            direct = d.socket();
          }
          accepted = true;
          onChange.run();
        }
      } catch (InvalidProtocolBufferException e) {
        fail(ctx.channel(), Status.INTERNAL.withDescription("malformed answer from the peer: " + e.getMessage()));
      } finally {
        frame.release();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        fail(ctx.channel(), Status.UNAVAILABLE.withDescription("no word from the peer in " + silenceMs + " ms"));
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      onChange.run();
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      fail(ctx.channel(), Status.UNAVAILABLE.withDescription("the peer closed the stream"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Throwable t = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
      fail(ctx.channel(), Status.UNAVAILABLE.withDescription(t.toString()).withCause(t));
    }
  }
}
