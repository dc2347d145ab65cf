package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchProgressRequest;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.clock.FakeClock;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.testing.LocalCluster;
import io.kvorum.server.watch.WatchHub;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A watch stream's control backlog filled ({@link WatchService#CONTROL_BACKLOG_MAX}): a client
 * that sends requests and does not read the answers is no longer read once that many requests or
 * answers wait; it is read again once it took its answers. The service runs on a real watch hub;
 * its gRPC side is a recording observer whose readiness the test sets (the client reads or not),
 * and the client sends a request whenever the service asked for one, as gRPC would.
 */
class WatchControlBacklogTest {
  @TempDir Path dir;
  Backend backend;
  KvStore kv;
  WatchHub hub;
  ExecutorService senders;
  WatchService service;

  /** What the service asked of the transport. */
  static final class Transport extends ServerCallStreamObserver<WatchResponse> {
    final List<WatchResponse> sent = new CopyOnWriteArrayList<>();
    volatile int requested;
    volatile boolean ready;
    volatile Runnable onReady = () -> { };

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void setOnCancelHandler(Runnable r) {}

    @Override
    public void setCompression(String c) {}

    @Override
    public boolean isReady() {
      return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable r) {
      onReady = r;
    }

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void disableAutoRequest() {}

    @Override
    public synchronized void request(int n) {
      requested += n;
    }

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(WatchResponse r) {
      sent.add(r);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** A member that always has a leader, on a clock that does not move. */
  static final class Member implements MemberView {
    final FakeClock clock = new FakeClock();
    final ServerConfig config = ServerConfig.builder().build();

    @Override
    public long memberId() {
      return 1;
    }

    @Override
    public long clusterId() {
      return 1;
    }

    @Override
    public long leader() {
      return 1;
    }

    @Override
    public long term() {
      return 1;
    }

    @Override
    public ResponseHeader header() {
      return ResponseHeader.getDefaultInstance();
    }

    @Override
    public boolean isLearner() {
      return false;
    }

    @Override
    public ServerConfig config() {
      return config;
    }

    @Override
    public Clock clock() {
      return clock;
    }
  }

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    kv = KvStore.open(backend);
    hub = new WatchHub(kv, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), 1 << 20, () -> 0, 0).start();
    senders = Executors.newSingleThreadExecutor();
    service = new WatchService(new Member(), null, hub, senders);
  }

  @AfterEach
  void close() throws InterruptedException {
    service.close();
    senders.shutdown();
    senders.awaitTermination(10, TimeUnit.SECONDS);
    hub.close();
    kv.close();
    backend.close();
  }

  private static final WatchRequest PROGRESS =
      WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build();

  @Test
  void watch_clientNotReadingAnswers_isNotReadBeyondTheControlBacklogMax() {
    Transport t = new Transport();
    StreamObserver<WatchRequest> in = service.watch(t);
    // The client sends whenever it may; each progress request is answered (no watcher to wait for).
    int sent = 0;
    for (int i = 0; i < 4 * WatchService.CONTROL_BACKLOG_MAX && sent < t.requested; i++) {
      in.onNext(PROGRESS);
      sent++;
    }
    assertThat(sent).isEqualTo(WatchService.CONTROL_BACKLOG_MAX);
    assertThat(t.requested).isEqualTo(WatchService.CONTROL_BACKLOG_MAX);
    assertThat(t.sent).isEmpty();

    // The client reads: every answer goes out, in order, and the stream is read again.
    t.ready = true;
    t.onReady.run();
    LocalCluster.await("every answer sent", () -> t.sent.size() == WatchService.CONTROL_BACKLOG_MAX);
    assertThat(t.sent).allSatisfy(r -> assertThat(r.getWatchId()).isEqualTo(WatchHub.NO_WATCH_ID));
    LocalCluster.await("the stream read again", () -> t.requested == WatchService.CONTROL_BACKLOG_MAX + 1);
  }
}
