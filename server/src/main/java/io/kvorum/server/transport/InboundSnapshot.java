package io.kvorum.server.transport;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.raftpb.SnapshotAck;
import io.kvorum.proto.raftpb.SnapshotChunk;
import io.kvorum.raft.Message;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * One incoming snapshot: the first chunk names the raft message, the rest is stored through the
 * receiver's sink; the message goes to raft only once the sink made the data durable.
 *
 * <p>The chunks are stored on a thread of this snapshot's own, so the connection's event loop goes
 * on reading and decoding the next ones meanwhile (and the raft messages that share the connection
 * are not held up by the stores and the final fsync). gRPC delivers only the chunks asked for:
 * {@link #CHUNKS_AHEAD} at first, one more as each is stored, which bounds memory.
 */
final class InboundSnapshot implements StreamObserver<SnapshotChunk> {
  private static final System.Logger LOG = System.getLogger(InboundSnapshot.class.getName());
  /** Chunks decoded and waiting for the store thread at most. */
  static final int CHUNKS_AHEAD = 4;

  private final long selfId;
  private final long clusterId;
  private final SnapshotStreams.Receiver snapshots;
  private final Consumer<Message> inbound;
  private final ServerCallStreamObserver<SnapshotAck> responses;
  /** Stores the chunks and answers the call once the first chunk opened the sink; null before. */
  private ExecutorService store;
  private Message message;
  private SnapshotStreams.Sink sink;
  /** Event loop only: the call failed or ended, later calls are ignored. */
  private boolean done;
  /** Store thread only: a store failed or the call broke, later chunks are dropped. */
  private boolean storeFailed;

  InboundSnapshot(long selfId, long clusterId, SnapshotStreams.Receiver snapshots, Consumer<Message> inbound,
      StreamObserver<SnapshotAck> responses) {
    this.selfId = selfId;
    this.clusterId = clusterId;
    this.snapshots = snapshots;
    this.inbound = inbound;
    this.responses = (ServerCallStreamObserver<SnapshotAck>) responses;
    this.responses.disableAutoRequest();
    this.responses.request(1);
  }

  @Override
  public void onNext(SnapshotChunk c) {
    if (done) {
      return;
    }
    if (message == null) {
      open(c);
      return;
    }
    ByteString data = c.getData();
    store.execute(() -> {
      if (storeFailed) {
        return;
      }
      try {
        sink.write(data);
        Failpoints.hit(Failpoint.SNAPSHOT_RECEIVE_MID);
        responses.request(1);
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "snapshot receive failed", e);
        failStore(Status.INTERNAL.withDescription(String.valueOf(e.getMessage())));
      }
    });
  }

  private void open(SnapshotChunk c) {
    try {
      if (c.getClusterId() != clusterId || !c.hasMessage()) {
        failEarly(Status.FAILED_PRECONDITION.withDescription("cluster ID mismatch or no snapshot message"));
        return;
      }
      Message m = MessageCodec.decode(c.getMessage());
      if (m.to() != selfId || m.snapshot() == null) {
        failEarly(Status.FAILED_PRECONDITION.withDescription("snapshot not for this member"));
        return;
      }
      LOG.log(System.Logger.Level.INFO, "receiving snapshot at index {0} from {1}", m.snapshot().index(),
          Long.toHexString(m.from()));
      sink = snapshots.open(m);
      message = m;
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "snapshot receive failed", e);
      failEarly(Status.INTERNAL.withDescription(String.valueOf(e.getMessage())));
      return;
    }
    store = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "kvorum-snapshot-in-" + Long.toHexString(message.from()));
      t.setDaemon(true);
      return t;
    });
    responses.request(CHUNKS_AHEAD);
  }

  /** A failure before the store thread exists: answered here. */
  private void failEarly(Status st) {
    done = true;
    responses.onError(st.asRuntimeException());
  }

  /** Store thread: drops what was stored and fails the call; later chunks are ignored. */
  private void failStore(Status st) {
    storeFailed = true;
    sink.abort();
    responses.onError(st.asRuntimeException());
  }

  @Override
  public void onError(Throwable t) {
    if (done) {
      return;
    }
    done = true;
    if (store != null) {
      store.execute(() -> {
        if (!storeFailed) {
          storeFailed = true;
          sink.abort();
        }
      });
      store.shutdown();
    }
  }

  @Override
  public void onCompleted() {
    if (done) {
      return;
    }
    done = true;
    if (message == null) {
      failEarly(Status.FAILED_PRECONDITION.withDescription("empty snapshot stream"));
      return;
    }
    store.execute(() -> {
      if (storeFailed) {
        return;
      }
      try {
        sink.finish();
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "snapshot store failed", e);
        failStore(Status.INTERNAL.withDescription(String.valueOf(e.getMessage())));
        return;
      }
      LOG.log(System.Logger.Level.INFO, "received snapshot at index {0}", message.snapshot().index());
      inbound.accept(message);
      responses.onNext(SnapshotAck.getDefaultInstance());
      responses.onCompleted();
    });
    store.shutdown();
  }
}
