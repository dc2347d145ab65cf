package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.raftpb.MessageBatch;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageCodecTest {

  @Test
  void encodeDecode_everyWireKindAndField_roundTrips() throws Exception {
    for (long seq = 0; seq < 500; seq++) {
      Message m = TestMessages.full(3, -2, seq);
      byte[] wire = MessageCodec.encode(m).toByteArray();
      Message back = MessageCodec.decode(io.kvorum.proto.raftpb.Message.parseFrom(wire));
      assertThat(back).usingRecursiveComparison().isEqualTo(m);
    }
  }

  @Test
  void encodeDecode_snapshotMessage_roundTrips() throws Exception {
    Snapshot snap = new Snapshot(new SnapshotMetadata(
        new ConfState(List.of(1L, 2L), List.of(3L), List.of(1L, 4L), List.of(4L), true), 99, 7), new byte[] {1, 2, 3});
    Message m = Message.builder(MessageType.SNAP).from(1).to(2).term(7).snapshot(snap).build();
    Message back = MessageCodec.decode(io.kvorum.proto.raftpb.Message.parseFrom(MessageCodec.encode(m).toByteArray()));
    assertThat(back).usingRecursiveComparison().isEqualTo(m);
  }

  @Test
  void decode_absentContextAndSnapshot_stayNull() throws Exception {
    Message m = Message.builder(MessageType.HEARTBEAT).from(1).to(2).term(3).build();
    Message back = MessageCodec.decode(io.kvorum.proto.raftpb.Message.parseFrom(MessageCodec.encode(m).toByteArray()));
    assertThat(back.context()).isNull();
    assertThat(back.snapshot()).isNull();
    assertThat(back.entries()).isEmpty();
  }

  @Test
  void decode_emptyContext_staysEmptyNotNull() throws Exception {
    Message m = Message.builder(MessageType.READ_INDEX).from(1).to(2).context(new byte[0]).build();
    Message back = MessageCodec.decode(io.kvorum.proto.raftpb.Message.parseFrom(MessageCodec.encode(m).toByteArray()));
    assertThat(back.context()).isNotNull().isEmpty();
  }

  @Test
  void encode_localKind_throws() {
    for (MessageType t : MessageType.values()) {
      if (t.isLocal()) {
        assertThatThrownBy(() -> MessageCodec.encode(Message.builder(t).build()))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(t.name());
      }
    }
  }

  @Test
  void decode_localOrUnsetOrUnknownKind_throws() {
    assertThatThrownBy(() -> MessageCodec.decode(io.kvorum.proto.raftpb.Message.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MSG_HUP");
    assertThatThrownBy(() -> MessageCodec.decode(io.kvorum.proto.raftpb.Message.newBuilder()
        .setType(io.kvorum.proto.raftpb.MessageType.MSG_UNREACHABLE).build()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MessageCodec.decode(io.kvorum.proto.raftpb.Message.newBuilder().setTypeValue(99).build()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown");
  }

  @Test
  void encode_entryPayload_isWrappedNotCopied() {
    byte[] data = {1, 2, 3, 4};
    io.kvorum.proto.raftpb.Entry e = MessageCodec.encode(Entry.normal(1, 1, data));
    // A wrapped ByteString sees a change to the array it wraps: proof that nothing was copied.
    data[0] = 9;
    assertThat(e.getData().byteAt(0)).isEqualTo((byte) 9);
  }

  @Test
  void bytes_parsedField_isHandedOverWithoutCopy() throws Exception {
    byte[] payload = new byte[4096];
    payload[17] = 42;
    byte[] wire = io.kvorum.proto.raftpb.Entry.newBuilder().setData(ByteString.copyFrom(payload)).build().toByteArray();
    io.kvorum.proto.raftpb.Entry parsed = io.kvorum.proto.raftpb.Entry.parseFrom(wire);
    byte[] first = MessageCodec.bytes(parsed.getData());
    // Twice the same array: taken from the ByteString, not copied out of it.
    assertThat(MessageCodec.bytes(parsed.getData())).isSameAs(first);
    assertThat(first).isEqualTo(payload);
    Entry decoded = MessageCodec.decode(parsed);
    assertThat(decoded.type()).isEqualTo(EntryType.NORMAL);
    assertThat(decoded.data()).isEqualTo(payload);
  }

  @Test
  void bytes_sliceOrRope_copiesTheRightBytes() {
    ByteString whole = ByteString.copyFromUtf8("0123456789");
    assertThat(MessageCodec.bytes(whole.substring(2, 5))).containsExactly('2', '3', '4');
    ByteString rope = ByteString.copyFrom(new byte[300]).concat(ByteString.copyFrom(new byte[] {7}).concat(
        ByteString.copyFrom(new byte[300])));
    byte[] b = MessageCodec.bytes(rope);
    assertThat(b).hasSize(601);
    assertThat(b[300]).isEqualTo((byte) 7);
    assertThat(MessageCodec.bytes(ByteString.EMPTY)).isEmpty();
  }

  @Test
  void wireBytesAtMost_anyMessage_boundsItsEncodedSizeInABatch() {
    int emptyBatch = MessageBatch.newBuilder().setClusterId(-1).setFrom(-1).build().getSerializedSize();
    for (long seq = 0; seq < 500; seq++) {
      Message m = TestMessages.full(-1, -1, seq).toBuilder().term(-1).commit(-1).index(-1).rejectHint(-1).build();
      int inBatch = MessageBatch.newBuilder().setClusterId(-1).setFrom(-1).addMessages(MessageCodec.encode(m)).build()
          .getSerializedSize() - emptyBatch;
      assertThat(MessageCodec.wireBytesAtMost(m)).as("seq %d", seq).isGreaterThanOrEqualTo(inBatch);
    }
  }
}
