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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import java.util.function.Supplier;

/**
 * The receiving end of one raft stream ({@link RaftStreams}), on the connection's event loop.
 *
 * <p><b>Checks.</b> Like etcd's stream handler: a stream from another cluster is refused with
 * FAILED_PRECONDITION "cluster ID mismatch", one from a removed member with
 * {@link PeerServer#REMOVED_MEMBER}, one meant for another member (or carrying a message for one)
 * with "to field mismatch"; a message of a local or unknown kind ends it with INVALID_ARGUMENT, a
 * frame over the size limit with RESOURCE_EXHAUSTED. A batch is checked whole before any of its
 * messages is delivered. Decoding is cheap and {@code inbound} must not block (the raft loop drops
 * when its inbox is full), so messages are handed over on the event loop itself.
 */
final class InboundRaftStream extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(InboundRaftStream.class.getName());

  /** How long a rejected stream stays open for the sender to read why. */
  private static final long REJECT_LINGER_MS = 2_000;

  private final long selfId;
  private final long clusterId;
  private final Supplier<LongPredicate> removed;
  private final Consumer<Message> inbound;
  /** The sender, once its opening frame was accepted; 0 before. */
  private long from;
  private boolean closed;

  InboundRaftStream(long selfId, long clusterId, Supplier<LongPredicate> removed, Consumer<Message> inbound) {
    this.selfId = selfId;
    this.clusterId = clusterId;
    this.removed = removed;
    this.inbound = inbound;
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
    String sender = Long.toHexString(hello.getFrom());
    if (hello.getClusterId() != clusterId) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription("cluster ID mismatch"), "stream from member " + sender
          + ": cluster ID mismatch (local " + Long.toHexString(clusterId) + ", remote "
          + Long.toHexString(hello.getClusterId()) + ")");
    } else if (removed.get().test(hello.getFrom())) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription(PeerServer.REMOVED_MEMBER),
          "stream from removed member " + sender);
    } else if (hello.getFrom() == 0 || hello.getTo() != selfId) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription("to field mismatch"), "stream from member " + sender
          + ": it expects member " + Long.toHexString(hello.getTo()) + ", this is " + Long.toHexString(selfId));
    } else {
      from = hello.getFrom();
      ctx.writeAndFlush(RaftStreams.frame(ctx.alloc(), StreamStatus.getDefaultInstance()));
    }
  }

  private void deliver(ChannelHandlerContext ctx, MessageBatch batch) {
    String sender = Long.toHexString(from);
    if (batch.getClusterId() != clusterId || batch.getFrom() != from) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription("cluster ID mismatch"),
          "stream from member " + sender + ": a batch of another cluster or member");
      return;
    }
    if (removed.get().test(from)) {
      reject(ctx, Status.FAILED_PRECONDITION.withDescription(PeerServer.REMOVED_MEMBER),
          "stream from removed member " + sender);
      return;
    }
    List<Message> messages = new ArrayList<>(batch.getMessagesCount());
    for (io.kvorum.proto.raftpb.Message pm : batch.getMessagesList()) {
      if (pm.getTo() != selfId) {
        reject(ctx, Status.FAILED_PRECONDITION.withDescription("to field mismatch"), "stream from member " + sender
            + ": message for member " + Long.toHexString(pm.getTo()) + " reached member " + Long.toHexString(selfId));
        return;
      }
      try {
        messages.add(MessageCodec.decode(pm));
      } catch (IllegalArgumentException e) {
        reject(ctx, Status.INVALID_ARGUMENT.withDescription(e.getMessage()), "stream from member " + sender + ": "
            + e.getMessage());
        return;
      }
    }
    for (Message m : messages) {
      inbound.accept(m);
    }
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
   * Tells the sender why, then closes: the sender closes on reading it; this end waits up to
   * {@link #REJECT_LINGER_MS} for that, discarding what still arrives, so that closing with unread
   * bytes does not reset the connection before the sender read the reason.
   */
  private void reject(ChannelHandlerContext ctx, Status status, String why) {
    if (closed) {
      return;
    }
    closed = true;
    LOG.log(System.Logger.Level.WARNING, "rejected " + why);
    StreamStatus s = StreamStatus.newBuilder().setCode(status.getCode().value())
        .setDescription(status.getDescription() == null ? "" : status.getDescription()).build();
    ctx.writeAndFlush(RaftStreams.frame(ctx.alloc(), s)).addListener((ChannelFutureListener) f ->
        f.channel().eventLoop().schedule(() -> f.channel().close(), REJECT_LINGER_MS, TimeUnit.MILLISECONDS));
  }
}
