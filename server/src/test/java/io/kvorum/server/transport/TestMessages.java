package io.kvorum.server.transport;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Raft messages for transport tests: every field set, content derived from a sequence number. */
final class TestMessages {
  private TestMessages() {}

  /** Every wire kind. */
  static final List<MessageType> WIRE_TYPES = java.util.Arrays.stream(MessageType.values())
      .filter(t -> !t.isLocal()).toList();

  /** A message from {@code from} to {@code to} whose {@code index} is {@code seq}, every field set. */
  static Message full(long from, long to, long seq) {
    SplittableRandom r = new SplittableRandom(seq * 31 + from * 7 + to);
    List<Entry> entries = new ArrayList<>();
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      byte[] data = new byte[r.nextInt(64)];
      r.nextBytes(data);
      entries.add(new Entry(r.nextLong(1, Long.MAX_VALUE), seq * 10 + i,
          i % 2 == 0 ? EntryType.NORMAL : EntryType.CONF_CHANGE, data));
    }
    Snapshot snap = null;
    MessageType type = WIRE_TYPES.get((int) Math.floorMod(seq, (long) WIRE_TYPES.size()));
    if (type == MessageType.SNAP) {
      // SNAP messages are reported on; keep them out of the generic stream unless asked for.
      type = MessageType.APP;
    }
    if (r.nextBoolean()) {
      snap = new Snapshot(new SnapshotMetadata(
          new ConfState(List.of(1L, 2L, -5L), List.of(4L), List.of(1L, 7L), List.of(7L), r.nextBoolean()),
          r.nextLong(), r.nextLong()), ByteBuffer.allocate(8).putLong(seq).array());
    }
    byte[] context = switch (r.nextInt(3)) {
      case 0 -> null;
      case 1 -> new byte[0];
      default -> ByteBuffer.allocate(8).putLong(~seq).array();
    };
    return Message.builder(type)
        .from(from)
        .to(to)
        .term(r.nextLong())
        .logTerm(-1L)
        .index(seq)
        .entries(entries)
        .commit(r.nextLong())
        .snapshot(snap)
        .reject(r.nextBoolean())
        .rejectHint(Long.MIN_VALUE + seq)
        .context(context)
        .build();
  }

  /** A small heartbeat with {@code index = seq}. */
  static Message heartbeat(long from, long to, long seq) {
    return Message.builder(MessageType.HEARTBEAT).from(from).to(to).term(1).index(seq).build();
  }
}
