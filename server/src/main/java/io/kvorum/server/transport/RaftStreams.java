package io.kvorum.server.transport;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The wire format of a raft message stream: how one member sends raft messages to one peer, on the
 * peer's peer port beside the {@code RaftPeer} gRPC service.
 *
 * <p>Raft messages are most of what members say to each other (a put on a leader of three moves
 * eight of them), so they skip gRPC and HTTP/2: the dialing member writes {@link #MAGIC} in the
 * clear, then (for {@code https}/{@code unixs} URLs) does a TLS handshake with the same
 * certificates and checks as gRPC's, then sends frames — a 4-byte big-endian length and that many
 * bytes of protobuf. The first frame is a {@code ProbeRequest} (cluster, sender, expected
 * receiver); the receiver answers one {@code StreamStatus} frame, code 0 when it takes the stream.
 * Every later frame is a {@code MessageBatch}. A receiver that rejects the stream sends a
 * {@code StreamStatus} with the gRPC code and description the gRPC stream gave, then closes. The
 * port tells the two protocols apart by the first bytes ({@link StreamSniffer}): the magic cannot
 * begin an HTTP/2 connection preface ({@code PRI *}) or a TLS record (byte 0x16).
 */
final class RaftStreams {
  /** What a raft stream opens with, before TLS. */
  static final byte[] MAGIC = "KVRAFT1\n".getBytes(StandardCharsets.US_ASCII);
  private static final int LENGTH_BYTES = 4;

  private RaftStreams() {}

  /**
   * Splits the stream into frames; one whose message is larger than {@code messageBytesMax} (the
   * limit gRPC applied to a batch) fails with a {@code TooLongFrameException}.
   */
  static LengthFieldBasedFrameDecoder frameDecoder(int messageBytesMax) {
    return new LengthFieldBasedFrameDecoder(LENGTH_BYTES + messageBytesMax, 0, LENGTH_BYTES, 0, LENGTH_BYTES);
  }

  /** {@code m} as one frame, in a buffer of {@code alloc} that the caller hands to netty. */
  static ByteBuf frame(ByteBufAllocator alloc, MessageLite m) {
    int size = m.getSerializedSize();
    ByteBuf buf = alloc.directBuffer(LENGTH_BYTES + size);
    try {
      buf.writeInt(size);
      CodedOutputStream out = CodedOutputStream.newInstance(buf.nioBuffer(LENGTH_BYTES, size));
      m.writeTo(out);
      out.checkNoSpaceLeft();
      buf.writerIndex(LENGTH_BYTES + size);
      return buf;
    } catch (IOException e) {
      buf.release();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }

  /** Parses one frame's bytes (the decoder stripped the length); the caller releases {@code frame}. */
  static <T> T parse(ByteBuf frame, Parser<T> parser) throws InvalidProtocolBufferException {
    return parser.parseFrom(CodedInputStream.newInstance(frame.nioBuffer()));
  }
}
