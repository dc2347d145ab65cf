package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.proto.raftpb.ProbeRequest;
import io.kvorum.proto.raftpb.SnapshotChunk;
import io.kvorum.proto.raftpb.StreamStatus;
import io.kvorum.raft.Message;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes what a peer sends: raft stream frames through the real frame decoder and
 * {@link InboundRaftStream}, and the wire messages {@link MessageCodec} turns into raft messages.
 * The only outcomes allowed are an accepted message, or the stream's refusal (a {@code StreamStatus}
 * with a gRPC code, then a close); an exception that escapes to netty is a bug.
 */
class RaftStreamFuzzTest {
  private static final long SELF = 2;
  private static final long PEER = 1;
  /** A small limit so that an oversized frame is reached quickly; the production default is larger. */
  private static final int MESSAGE_BYTES_MAX = 64 * 1024;

  /**
   * The frames of a raft stream after the magic. With the first input byte odd, a valid opening
   * frame is sent first so that the rest reaches the batch path; its other bits give the size of
   * the pieces the rest arrives in (1 to 128 bytes), as a TCP stream may split it.
   */
  @FuzzTest(maxDuration = "5m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void inboundStream(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    int[] delivered = {0};
    EmbeddedChannel ch = new EmbeddedChannel(RaftStreams.frameDecoder(MESSAGE_BYTES_MAX),
        new InboundRaftStream(SELF, RaftStreamFuzzTest::admission, m -> delivered[0]++, Duration.ofHours(1)));
    try {
      if ((input[0] & 1) != 0) {
        ProbeRequest hello = ProbeRequest.newBuilder().setClusterId(TestMember.CLUSTER).setFrom(PEER).setTo(SELF).build();
        ch.writeInbound(RaftStreams.frame(ch.alloc(), hello));
      }
      int piece = (Byte.toUnsignedInt(input[0]) >>> 1) + 1;
      for (int at = 1; at < input.length && ch.isOpen(); at += piece) {
        ch.writeInbound(Unpooled.copiedBuffer(input, at, Math.min(piece, input.length - at)));
      }
      // The stream never fails through netty: every refusal is a StreamStatus the sender can read.
      assertThat(ch.isOpen()).as("stream closed without a refusal (an exception escaped)").isTrue();
      ch.checkException();
      Object out;
      while ((out = ch.readOutbound()) != null) {
        ByteBuf b = (ByteBuf) out;
        try {
          b.skipBytes(4);
          StreamStatus s = RaftStreams.parse(b, StreamStatus.parser());
          assertThat(Status.Code.values()).extracting(Status.Code::value).contains(s.getCode());
        } finally {
          b.release();
        }
      }
    } finally {
      ch.finishAndReleaseAll();
    }
  }

  /** One peer message batch's bytes: parsed and decoded, or refused as malformed. */
  @FuzzTest(maxDuration = "5m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void messageBatch(byte[] bytes) {
    MessageBatch batch;
    try {
      batch = MessageBatch.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    for (io.kvorum.proto.raftpb.Message pm : batch.getMessagesList()) {
      try {
        Message m = MessageCodec.decode(pm);
        // What was accepted can be sent on (a leader forwards proposals): encoding it must not fail.
        assertThat(MessageCodec.encode(m).getType()).isEqualTo(pm.getType());
      } catch (IllegalArgumentException e) {
        // A local or unknown message or entry kind: the stream refuses it with INVALID_ARGUMENT.
      }
    }
  }

  /** The first chunk of an incoming snapshot, which names its raft message. */
  @FuzzTest(maxDuration = "5m")
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void snapshotChunk(byte[] bytes) {
    SnapshotChunk c;
    try {
      c = SnapshotChunk.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    if (c.hasMessage()) {
      try {
        MessageCodec.decode(c.getMessage());
      } catch (IllegalArgumentException e) {
        // Refused: InboundSnapshot answers INTERNAL with the reason.
      }
    }
  }

  private static Status admission(long cluster, long from, long to, String what) {
    if (cluster != TestMember.CLUSTER) {
      return Status.FAILED_PRECONDITION.withDescription("cluster ID mismatch");
    }
    if (to != 0 && to != SELF) {
      return Status.FAILED_PRECONDITION.withDescription("to field mismatch");
    }
    return null;
  }
}
