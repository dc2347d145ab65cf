package io.kvorum.raft;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ReadIndex requests a leader holds until a quorum acknowledges a heartbeat that carries the
 * request's context. An acknowledged context confirms every request queued before it too.
 */
final class ReadOnly {
  /** Requests waiting for a heartbeat quorum; beyond this a new request is dropped (the client retries). */
  static final int PENDING_READS_MAX = 4096;

  static final class ReadIndexStatus {
    final Message req;
    final long index;
    final Set<Long> acks = new HashSet<>();

    ReadIndexStatus(Message req, long index) {
      this.req = req;
      this.index = index;
    }
  }

  final ReadOnlyOption option;
  private final Map<ByteBuffer, ReadIndexStatus> pending = new HashMap<>();
  private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();

  ReadOnly(ReadOnlyOption option) {
    this.option = option;
  }

  /** Queues {@code m} to be answered with {@code index}; false when full. */
  boolean addRequest(long index, Message m) {
    ByteBuffer key = ByteBuffer.wrap(m.context());
    if (pending.containsKey(key)) {
      return true;
    }
    if (pending.size() >= PENDING_READS_MAX) {
      return false;
    }
    pending.put(key, new ReadIndexStatus(m, index));
    queue.addLast(key);
    return true;
  }

  /** Records an ack of {@code ctx} from {@code id}; the acks so far, or null if unknown. */
  Set<Long> recvAck(long id, byte[] ctx) {
    ReadIndexStatus rs = pending.get(ByteBuffer.wrap(ctx));
    if (rs == null) {
      return null;
    }
    rs.acks.add(id);
    return rs.acks;
  }

  /** Removes and returns every request up to and including the one with {@code ctx}. */
  List<ReadIndexStatus> advance(byte[] ctx) {
    ByteBuffer key = ByteBuffer.wrap(ctx);
    if (!pending.containsKey(key)) {
      return List.of();
    }
    List<ReadIndexStatus> out = new ArrayList<>();
    while (!queue.isEmpty()) {
      ByteBuffer k = queue.pollFirst();
      out.add(pending.remove(k));
      if (k.equals(key)) {
        break;
      }
    }
    return out;
  }

  byte[] lastPendingRequestCtx() {
    ByteBuffer k = queue.peekLast();
    return k == null ? null : k.array();
  }

  int pendingCount() {
    return queue.size();
  }
}
