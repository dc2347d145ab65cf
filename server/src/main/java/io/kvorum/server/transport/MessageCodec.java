package io.kvorum.server.transport;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts raft messages to and from their wire form ({@code kvorum.raftpb}).
 *
 * <p><b>Payload copies.</b> Outgoing entry data, snapshot data and contexts are wrapped, not copied
 * ({@link UnsafeByteOperations#unsafeWrap(byte[])}): raft's contract is that an entry's bytes never
 * change once handed over, and the wire message is serialized before anyone could. Incoming, gRPC's
 * protobuf marshaller parses without aliasing (from a reused buffer or from the stream), so the
 * parser copies each {@code bytes} field into an array of its own; {@link #bytes(ByteString)} then
 * hands that very array to the raft
 * {@link Entry} instead of copying it again ({@code ByteString.toByteArray()} would be one more
 * copy). It falls back to that copy when the {@code ByteString} is a slice or a rope, which the
 * parser does not produce for byte-array input. The wire message is dropped right after decoding,
 * so nothing else ever sees the shared array.
 *
 * <p>Local message kinds (HUP, BEAT, UNREACHABLE, SNAP_STATUS, CHECK_QUORUM) never travel: encoding
 * one is a bug and throws; decoding one (or an unknown kind) throws {@link IllegalArgumentException},
 * which the receiver turns into a rejected stream.
 */
final class MessageCodec {
  private static final byte[] EMPTY = new byte[0];
  private static final int VARINT_BYTES_MAX = 10;
  /** A length-delimited field's tag plus its length varint (lengths stay below 2^35). */
  private static final int FIELD_FRAMING_BYTES_MAX = 6;
  /** Framing plus the nine scalar fields of a Message (seven uint64, two one-byte). */
  private static final int MESSAGE_FIXED_BYTES_MAX = FIELD_FRAMING_BYTES_MAX + 7 * (1 + VARINT_BYTES_MAX) + 2 * 2;
  /** Framing, term, index, type and the data field's framing of an Entry. */
  private static final int ENTRY_FIXED_BYTES_MAX = FIELD_FRAMING_BYTES_MAX + 2 * (1 + VARINT_BYTES_MAX) + 2
      + FIELD_FRAMING_BYTES_MAX;
  /** Framing of Snapshot, SnapshotMetadata, ConfState and its four lists; auto_leave, index, term, data framing. */
  private static final int SNAPSHOT_FIXED_BYTES_MAX = 7 * FIELD_FRAMING_BYTES_MAX + 2 + 2 * (1 + VARINT_BYTES_MAX)
      + FIELD_FRAMING_BYTES_MAX;

  private MessageCodec() {}

  // ------------------------------------------------------------ raft -> wire

  static io.kvorum.proto.raftpb.Message encode(Message m) {
    io.kvorum.proto.raftpb.Message.Builder b = io.kvorum.proto.raftpb.Message.newBuilder()
        .setType(encodeType(m.type()))
        .setTo(m.to())
        .setFrom(m.from())
        .setTerm(m.term())
        .setLogTerm(m.logTerm())
        .setIndex(m.index())
        .setCommit(m.commit())
        .setReject(m.reject())
        .setRejectHint(m.rejectHint());
    for (Entry e : m.entries()) {
      b.addEntries(encode(e));
    }
    if (m.snapshot() != null) {
      b.setSnapshot(encode(m.snapshot()));
    }
    if (m.context() != null) {
      b.setContext(wrap(m.context()));
    }
    return b.build();
  }

  static io.kvorum.proto.raftpb.Entry encode(Entry e) {
    return io.kvorum.proto.raftpb.Entry.newBuilder()
        .setTerm(e.term())
        .setIndex(e.index())
        .setType(switch (e.type()) {
          case NORMAL -> io.kvorum.proto.raftpb.EntryType.ENTRY_NORMAL;
          case CONF_CHANGE -> io.kvorum.proto.raftpb.EntryType.ENTRY_CONF_CHANGE;
        })
        .setData(wrap(e.data()))
        .build();
  }

  static io.kvorum.proto.raftpb.Snapshot encode(Snapshot s) {
    SnapshotMetadata md = s.metadata();
    return io.kvorum.proto.raftpb.Snapshot.newBuilder()
        .setMetadata(io.kvorum.proto.raftpb.SnapshotMetadata.newBuilder()
            .setConfState(encode(md.confState()))
            .setIndex(md.index())
            .setTerm(md.term()))
        .setData(wrap(s.data()))
        .build();
  }

  static io.kvorum.proto.raftpb.ConfState encode(ConfState cs) {
    return io.kvorum.proto.raftpb.ConfState.newBuilder()
        .addAllVoters(cs.voters())
        .addAllLearners(cs.learners())
        .addAllVotersOutgoing(cs.votersOutgoing())
        .addAllLearnersNext(cs.learnersNext())
        .setAutoLeave(cs.autoLeave())
        .build();
  }

  private static io.kvorum.proto.raftpb.MessageType encodeType(MessageType t) {
    return switch (t) {
      case PROP -> io.kvorum.proto.raftpb.MessageType.MSG_PROP;
      case APP -> io.kvorum.proto.raftpb.MessageType.MSG_APP;
      case APP_RESP -> io.kvorum.proto.raftpb.MessageType.MSG_APP_RESP;
      case VOTE -> io.kvorum.proto.raftpb.MessageType.MSG_VOTE;
      case VOTE_RESP -> io.kvorum.proto.raftpb.MessageType.MSG_VOTE_RESP;
      case SNAP -> io.kvorum.proto.raftpb.MessageType.MSG_SNAP;
      case HEARTBEAT -> io.kvorum.proto.raftpb.MessageType.MSG_HEARTBEAT;
      case HEARTBEAT_RESP -> io.kvorum.proto.raftpb.MessageType.MSG_HEARTBEAT_RESP;
      case TRANSFER_LEADER -> io.kvorum.proto.raftpb.MessageType.MSG_TRANSFER_LEADER;
      case TIMEOUT_NOW -> io.kvorum.proto.raftpb.MessageType.MSG_TIMEOUT_NOW;
      case READ_INDEX -> io.kvorum.proto.raftpb.MessageType.MSG_READ_INDEX;
      case READ_INDEX_RESP -> io.kvorum.proto.raftpb.MessageType.MSG_READ_INDEX_RESP;
      case PRE_VOTE -> io.kvorum.proto.raftpb.MessageType.MSG_PRE_VOTE;
      case PRE_VOTE_RESP -> io.kvorum.proto.raftpb.MessageType.MSG_PRE_VOTE_RESP;
      case HUP, BEAT, UNREACHABLE, SNAP_STATUS, CHECK_QUORUM ->
          throw new IllegalArgumentException("raft: local message " + t + " cannot be sent to a peer");
    };
  }

  /**
   * An upper bound of the encoded size of {@code m} inside a batch (its own tag and length
   * included), computed without encoding: varints are counted at their widest.
   */
  static long wireBytesAtMost(Message m) {
    long n = MESSAGE_FIXED_BYTES_MAX;
    for (Entry e : m.entries()) {
      n += ENTRY_FIXED_BYTES_MAX + e.data().length;
    }
    if (m.snapshot() != null) {
      ConfState cs = m.snapshot().metadata().confState();
      long ids = cs.voters().size() + cs.learners().size() + cs.votersOutgoing().size() + cs.learnersNext().size();
      n += SNAPSHOT_FIXED_BYTES_MAX + VARINT_BYTES_MAX * ids + m.snapshot().data().length;
    }
    if (m.context() != null) {
      n += FIELD_FRAMING_BYTES_MAX + m.context().length;
    }
    return n;
  }

  private static ByteString wrap(byte[] b) {
    return b.length == 0 ? ByteString.EMPTY : UnsafeByteOperations.unsafeWrap(b);
  }

  // ------------------------------------------------------------ wire -> raft

  /** @throws IllegalArgumentException for a local, unset or unknown message kind */
  static Message decode(io.kvorum.proto.raftpb.Message m) {
    List<Entry> entries;
    if (m.getEntriesCount() == 0) {
      entries = List.of();
    } else {
      entries = new ArrayList<>(m.getEntriesCount());
      for (io.kvorum.proto.raftpb.Entry e : m.getEntriesList()) {
        entries.add(decode(e));
      }
    }
    return new Message(
        decodeType(m.getType()),
        m.getTo(),
        m.getFrom(),
        m.getTerm(),
        m.getLogTerm(),
        m.getIndex(),
        entries,
        m.getCommit(),
        m.hasSnapshot() ? decode(m.getSnapshot()) : null,
        m.getReject(),
        m.getRejectHint(),
        m.hasContext() ? bytes(m.getContext()) : null);
  }

  static Entry decode(io.kvorum.proto.raftpb.Entry e) {
    EntryType type = switch (e.getType()) {
      case ENTRY_NORMAL -> EntryType.NORMAL;
      case ENTRY_CONF_CHANGE -> EntryType.CONF_CHANGE;
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown entry type " + e.getTypeValue());
    };
    return new Entry(e.getTerm(), e.getIndex(), type, bytes(e.getData()));
  }

  static Snapshot decode(io.kvorum.proto.raftpb.Snapshot s) {
    io.kvorum.proto.raftpb.SnapshotMetadata md = s.getMetadata();
    return new Snapshot(
        new SnapshotMetadata(decode(md.getConfState()), md.getIndex(), md.getTerm()),
        bytes(s.getData()));
  }

  static ConfState decode(io.kvorum.proto.raftpb.ConfState cs) {
    return new ConfState(cs.getVotersList(), cs.getLearnersList(), cs.getVotersOutgoingList(),
        cs.getLearnersNextList(), cs.getAutoLeave());
  }

  private static MessageType decodeType(io.kvorum.proto.raftpb.MessageType t) {
    return switch (t) {
      case MSG_PROP -> MessageType.PROP;
      case MSG_APP -> MessageType.APP;
      case MSG_APP_RESP -> MessageType.APP_RESP;
      case MSG_VOTE -> MessageType.VOTE;
      case MSG_VOTE_RESP -> MessageType.VOTE_RESP;
      case MSG_SNAP -> MessageType.SNAP;
      case MSG_HEARTBEAT -> MessageType.HEARTBEAT;
      case MSG_HEARTBEAT_RESP -> MessageType.HEARTBEAT_RESP;
      case MSG_TRANSFER_LEADER -> MessageType.TRANSFER_LEADER;
      case MSG_TIMEOUT_NOW -> MessageType.TIMEOUT_NOW;
      case MSG_READ_INDEX -> MessageType.READ_INDEX;
      case MSG_READ_INDEX_RESP -> MessageType.READ_INDEX_RESP;
      case MSG_PRE_VOTE -> MessageType.PRE_VOTE;
      case MSG_PRE_VOTE_RESP -> MessageType.PRE_VOTE_RESP;
      case MSG_HUP, MSG_BEAT, MSG_UNREACHABLE, MSG_SNAP_STATUS, MSG_CHECK_QUORUM ->
          throw new IllegalArgumentException("local message kind " + t + " received from a peer");
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown message kind received from a peer");
    };
  }

  /**
   * The bytes of {@code s} as an array: the {@code ByteString}'s own array when it is a whole
   * array (what the parser makes), else a copy. The caller must own {@code s} exclusively.
   */
  static byte[] bytes(ByteString s) {
    if (s.isEmpty()) {
      return EMPTY;
    }
    WholeArray whole = new WholeArray(s.size());
    try {
      UnsafeByteOperations.unsafeWriteTo(s, whole);
    } catch (IOException e) {
      // WholeArray never throws; ByteOutput merely declares it.
      throw new UncheckedIOException(e);
    }
    return whole.array != null ? whole.array : s.toByteArray();
  }

  /** Captures the backing array of a {@code ByteString} written as one whole array, if it is. */
  private static final class WholeArray extends ByteOutput {
    private final int size;
    private byte[] array;
    private boolean partial;

    WholeArray(int size) {
      this.size = size;
    }

    private void other() {
      array = null;
      partial = true;
    }

    @Override
    public void write(byte value) {
      other();
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      other();
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      if (!partial && array == null && offset == 0 && length == size && value.length == size) {
        array = value;
      } else {
        other();
      }
    }

    @Override
    public void write(ByteBuffer value) {
      other();
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      other();
    }
  }
}
