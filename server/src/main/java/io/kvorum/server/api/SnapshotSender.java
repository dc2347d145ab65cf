package io.kvorum.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.kvorum.proto.etcdserverpb.SnapshotResponse;
import io.kvorum.server.snapshot.SnapshotStream;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one {@code Maintenance.Snapshot} stream under gRPC's flow control: a message only while the
 * call is ready, the rest when it becomes ready again, so a slow client holds one file open, not
 * the file in memory. The stream (and its file) is closed when the last message is sent, when the
 * call fails, or when the client cancels, whichever comes first, also if the file is written only
 * after the cancel.
 */
final class SnapshotSender {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotSender.class);

  private final ServerCallStreamObserver<SnapshotResponse> call;
  private SnapshotStream stream;
  private boolean finished;

  /** Must run within the service method: gRPC takes the handlers only there. */
  SnapshotSender(ServerCallStreamObserver<SnapshotResponse> call) {
    this.call = call;
    call.setOnCancelHandler(this::cancelled);
    call.setOnReadyHandler(this::drain);
  }

  /** Starts sending {@code s}, or fails the call with {@code err}. */
  synchronized void start(SnapshotStream s, Throwable err) {
    if (err != null) {
      if (!finished) {
        finished = true;
        call.onError(GrpcErrors.toStatus(err));
      }
      return;
    }
    if (finished) {
      s.close();
      return;
    }
    stream = s;
    LOG.info("sending database snapshot to client ({} bytes)", s.sizeBytes());
    drain();
  }

  private synchronized void drain() {
    if (stream == null || finished) {
      return;
    }
    try {
      while (call.isReady()) {
        SnapshotStream.Chunk c = stream.next();
        if (c == null) {
          finished = true;
          stream.close();
          call.onCompleted();
          LOG.info("sent database snapshot to client ({} bytes)", stream.sizeBytes());
          return;
        }
        call.onNext(SnapshotResponse.newBuilder().setRemainingBytes(c.remainingBytes()).setBlob(c.blob()).build());
      }
    } catch (IOException | RuntimeException e) {
      finished = true;
      stream.close();
      LOG.warn("failed to send database snapshot: {}", e.toString());
      call.onError(GrpcErrors.toStatus(e));
    }
  }

  private synchronized void cancelled() {
    if (!finished) {
      finished = true;
      if (stream != null) {
        stream.close();
      }
    }
  }
}
