package io.kvorum.server.concurrency;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.watch.WatchHub;
import io.kvorum.server.watch.WatchStream;
import java.util.List;
import java.util.function.Consumer;

/**
 * One watcher of the member's hub on a stream of its own, as etcd's in-process client opens one
 * per {@code Watch} call. Responses wait in the stream (bounded by the hub's slots per stream; a
 * watcher whose stream is full catches up from history later) until {@link #poll} takes them; the
 * hub calls the {@code sendable} hook, on its thread, whenever some are waiting. Closing drops the
 * watcher at once.
 */
final class KeyWatch implements AutoCloseable {
  private final WatchStream stream;
  private volatile boolean closed;

  private KeyWatch(WatchStream stream) {
    this.stream = stream;
  }

  /**
   * Watches {@code [key, end)} ({@code key} alone when {@code end} is empty) from revision {@code
   * from}; {@code sendable} runs on the hub's thread when responses wait, and must not block.
   */
  static KeyWatch open(WatchHub hub, ByteString key, ByteString end, long from, Consumer<KeyWatch> sendable) {
    KeyWatch w = new KeyWatch(hub.openStream());
    w.stream.onSendable(() -> sendable.accept(w));
    w.stream.create(WatchCreateRequest.newBuilder().setKey(key).setRangeEnd(end).setStartRevision(from).build());
    return w;
  }

  /**
   * The next response with events, or that ended the watcher (canceled: compacted); null when none
   * waits or once closed. The created notification is skipped, as etcd's client does without
   * {@code WithCreatedNotify}.
   */
  WatchResponse poll() {
    while (!closed) {
      // Not fragmented: one response per poll.
      List<WatchResponse> rs = stream.poll();
      if (rs.isEmpty()) {
        return null;
      }
      WatchResponse r = rs.get(0);
      if (!r.getCreated() || r.getCanceled()) {
        return r;
      }
    }
    return null;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      stream.close();
    }
  }
}
