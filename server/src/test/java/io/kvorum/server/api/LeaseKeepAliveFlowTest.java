package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseLeasesResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.server.etcdserver.LeaseServer;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A keep-alive stream's bound: one renewal in flight, and no answers piling up for a client that
 * does not read them. The stream's gRPC side is a recording observer whose transport readiness the
 * test sets; the renewals are answered at once with the lease id and a fixed TTL.
 */
class LeaseKeepAliveFlowTest {
  /** What the service asked of the transport. */
  static final class Transport extends ServerCallStreamObserver<LeaseKeepAliveResponse> {
    final List<LeaseKeepAliveResponse> sent = new ArrayList<>();
    int requested;
    boolean ready = true;
    Runnable onReady = () -> { };

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
    public void request(int n) {
      requested += n;
    }

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(LeaseKeepAliveResponse r) {
      sent.add(r);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** Renews every lease at once with TTL 60. */
  static final class Renewals implements LeaseServer {
    int renewed;

    @Override
    public CompletableFuture<LeaseKeepAliveResponse> leaseRenew(RequestContext ctx, long id) {
      renewed++;
      return CompletableFuture.completedFuture(LeaseKeepAliveResponse.newBuilder().setID(id).setTTL(60).build());
    }

    @Override
    public CompletableFuture<LeaseGrantResponse> leaseGrant(RequestContext ctx, LeaseGrantRequest r) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<LeaseRevokeResponse> leaseRevoke(RequestContext ctx, LeaseRevokeRequest r) {
      throw new UnsupportedOperationException();
    }

    @Override
    public LeaseLeasesResponse leaseLeases(RequestContext ctx) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<LeaseTimeToLiveResponse> leaseTimeToLive(RequestContext ctx,
        LeaseTimeToLiveRequest r) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void leaseKeepAlive_clientNotReading_nextRequestReadOnlyOnceTheTransportIsReady() {
    Transport t = new Transport();
    Renewals renewals = new Renewals();
    StreamObserver<LeaseKeepAliveRequest> in = new LeaseService(null, renewals, null).leaseKeepAlive(t);
    assertThat(t.requested).isEqualTo(1);

    // Ready: each answered request lets the next one be read, one at a time.
    in.onNext(LeaseKeepAliveRequest.newBuilder().setID(7).build());
    assertThat(t.sent).extracting(LeaseKeepAliveResponse::getID).containsExactly(7L);
    assertThat(t.requested).isEqualTo(2);

    // The client stopped reading: the transport's buffer is full (not ready). The answer is handed
    // over, and no further request is read, however many the client sent.
    t.ready = false;
    in.onNext(LeaseKeepAliveRequest.newBuilder().setID(8).build());
    assertThat(t.sent).extracting(LeaseKeepAliveResponse::getID).containsExactly(7L, 8L);
    assertThat(t.requested).isEqualTo(2);
    t.onReady.run();
    assertThat(t.requested).as("still not ready").isEqualTo(2);

    // The client read: the transport is ready again and the next request is read, once.
    t.ready = true;
    t.onReady.run();
    assertThat(t.requested).isEqualTo(3);
    t.onReady.run();
    assertThat(t.requested).isEqualTo(3);
    assertThat(renewals.renewed).isEqualTo(2);
  }
}
