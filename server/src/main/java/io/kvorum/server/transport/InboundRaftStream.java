package io.kvorum.server.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.TooLongFrameException;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.StreamStatus;
import io.kvorum.raft.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The receiving end of one raft stream ({@link RaftStreams}), on the connection's event loop.
 *
 * <p><b>Checks.</b> Like etcd's stream handler: the opening frame and every batch pass
 * {@link PeerServer#refusal} (another cluster, a removed member, another member expected: each
 * FAILED_PRECONDITION with etcd's text); a message for another member ends the stream with "to
 * field mismatch", a message of a local or unknown kind ends it with INVALID_ARGUMENT, a
 * frame over the size limit with RESOURCE_EXHAUSTED. A batch is checked whole before any of its
 * messages is delivered. Decoding is cheap and {@code inbound} must not block (the raft loop drops
 * when its inbox is full), so messages are handed over on the event loop itself.
 *
 * <p><b>Keep-alive.</b> Once the stream is accepted this end sends an empty status every
 * keep-alive time, by which the sender knows the connection still reaches a live member.
 */
final class InboundRaftStream extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(InboundRaftStream.class.getName());

  /** How long a rejected stream stays open for the sender to read why. */
  private static final long REJECT_LINGER_MS = 2_000;

  /** Who may send here: {@link PeerServer#refusal}. */
  @FunctionalInterface
  interface Admission {
    Status refusal(long cluster, long from, long to, String what);
  }

  private final long selfId;
  private final Admission admission;
  private final Consumer<Message> inbound;
  private final long keepAliveMs;
  private ScheduledFuture<?> keepAlive;
  /** The sender, once its opening frame was accepted; 0 before. */
  private long from;
  private final PeerObserver observer;
  /** The sender's counters, once it said who it is. */
  private PeerObserver.Peer counters = PeerObserver.Peer.NONE;
  private boolean closed;

  InboundRaftStream(long selfId, Admission admission, Consumer<Message> inbound, Duration keepAlive) {
    this(selfId, admission, inbound, keepAlive, PeerObserver.NONE);
  }

  InboundRaftStream(long selfId, Admission admission, Consumer<Message> inbound, Duration keepAlive,
      PeerObserver observer) {
    this.observer = observer;
    this.selfId = selfId;
    this.admission = admission;
    this.inbound = inbound;
    this.keepAliveMs = Math.max(1, keepAlive.toMillis());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf frame = (ByteBuf) msg;
    try {
      if (closed) {
        return;
      }
      if (from == 0) {
        open(ctx, RaftStreams.parse(frame, ProbeRequest.parser()));
      } else {
        counters.received(frame.readableBytes());
        deliver(ctx, RaftStreams.parse(frame, MessageBatch.parser()));
      }
    } catch (InvalidProtocolBufferException e) {
      reject(ctx, Status.INVALID_ARGUMENT.withDescription("malformed frame: " + e.getMessage()),
          "stream from " + ctx.channel().remoteAddress() + ": malformed frame");
    } finally {
      frame.release();
    }
  }

  private void open(ChannelHandlerContext ctx, ProbeRequest hello) {
    if (hello.getFrom() == 0) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription("no sender"),
          "stream from " + ctx.channel().remoteAddress() + ": no sender");
      return;
    }
    Status refused = admission.refusal(hello.getClusterId(), hello.getFrom(), hello.getTo(), "raft stream");
    if (refused != null) {
      reject(ctx, refused, null);
    } else {
      from = hello.getFrom();
      counters = observer.peer(from);
      sendOk(ctx);
      keepAlive = ctx.executor().scheduleAtFixedRate(() -> {
        if (!closed) {
          sendOk(ctx);
        }
      }, keepAliveMs, keepAliveMs, TimeUnit.MILLISECONDS);
    }
  }

  /** The empty status: the stream's yes, then its keep-alive. */
  private static void sendOk(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(RaftStreams.frame(ctx.alloc(), StreamStatus.getDefaultInstance()));
  }

  private void deliver(ChannelHandlerContext ctx, MessageBatch batch) {
    if (batch.getFrom() != from) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription("sender changed"), "stream from member " + Long.toHexString(from)
          + ": a batch from member " + Long.toHexString(batch.getFrom()));
      return;
    }
    Status refused = admission.refusal(batch.getClusterId(), from, selfId, "raft stream");
    if (refused != null) {
      reject(ctx, refused, null);
      return;
    }
    List<Message> messages = new ArrayList<>(batch.getMessagesCount());
    for (io.kvorum.proto.raftpb.Message pm : batch.getMessagesList()) {
      if (pm.getTo() != selfId) {
        reject(ctx, Status.FAILED_PRECONDITION.withDescription("to field mismatch"), "stream from member " + Long.toHexString(from)
            + ": message for member " + Long.toHexString(pm.getTo()) + " reached member " + Long.toHexString(selfId));
        return;
      }
      try {
        messages.add(MessageCodec.decode(pm));
      } catch (IllegalArgumentException e) {
        reject(ctx, Status.INVALID_ARGUMENT.withDescription(e.getMessage()), "stream from member " + Long.toHexString(from) + ": "
            + e.getMessage());
        return;
      }
    }
    for (Message m : messages) {
      inbound.accept(m);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closed = true;
    if (keepAlive != null) {
      keepAlive.cancel(false);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof TooLongFrameException || cause.getCause() instanceof TooLongFrameException) {
      reject(ctx, Status.RESOURCE_EXHAUSTED.withDescription(cause.getMessage()),
          "stream from " + ctx.channel().remoteAddress() + ": " + cause.getMessage());
      return;
    }
    // TLS failures are logged by the check that made them; a reset is a sender going away.
    LOG.log(System.Logger.Level.DEBUG, "raft stream from " + ctx.channel().remoteAddress() + " failed", cause);
    closed = true;
    ctx.close();
  }

  /**
   * Tells the sender why (logging {@code why}; null when the check logged it), then closes: the
   * sender closes on reading it; this end waits up to {@link #REJECT_LINGER_MS} for that,
   * discarding what still arrives, so that closing with unread bytes does not reset the
   * connection before the sender read the reason.
   */
  private void reject(ChannelHandlerContext ctx, Status status, String why) {
    if (closed) {
      return;
    }
    closed = true;
    if (why != null) {
      LOG.log(System.Logger.Level.WARNING, "rejected " + why);
    }
    StreamStatus s = StreamStatus.newBuilder().setCode(status.getCode().value())
        .setDescription(status.getDescription() == null ? "" : status.getDescription()).build();
    ctx.writeAndFlush(RaftStreams.frame(ctx.alloc(), s)).addListener((ChannelFutureListener) f ->
        f.channel().eventLoop().schedule(() -> f.channel().close(), REJECT_LINGER_MS, TimeUnit.MILLISECONDS));
  }
}
