package io.kvorum.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseLeasesRequest;
import io.kvorum.proto.etcdserverpb.LeaseLeasesResponse;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.LeaseServer;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lease service. Keep-alives are answered in order on their stream, one renewal at a time
 * per stream (the next request is read once the previous answer was handed to a ready transport),
 * so a stream holds at most one renewal in flight and no backlog of answers however fast the
 * client sends and however slowly it reads.
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {
  private static final RequestContext GRANT = Requests.base(LeaseGrpc.getLeaseGrantMethod());
  private static final RequestContext REVOKE = Requests.base(LeaseGrpc.getLeaseRevokeMethod());
  private static final RequestContext TIME_TO_LIVE = Requests.base(LeaseGrpc.getLeaseTimeToLiveMethod());
  private static final RequestContext LEASES = Requests.base(LeaseGrpc.getLeaseLeasesMethod());
  private static final RequestContext KEEP_ALIVE = Requests.base(LeaseGrpc.getLeaseKeepAliveMethod());
  private final MemberView member;
  private final LeaseServer server;
  private final AuthServer auth;

  LeaseService(MemberView member, LeaseServer server, AuthServer auth) {
    this.member = member;
    this.server = server;
    this.auth = auth;
  }

  private RequestContext ctx(RequestContext base) {
    return Requests.current(base, member.clock());
  }

  @Override
  public void leaseGrant(LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> out) {
    CallerCredentials.answer(out, auth, ctx(GRANT), c -> server.leaseGrant(c, request));
  }

  @Override
  public void leaseRevoke(LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> out) {
    CallerCredentials.answer(out, auth, ctx(REVOKE), c -> server.leaseRevoke(c, request));
  }

  @Override
  public void leaseTimeToLive(LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
    KvService.answer(out, () -> server.leaseTimeToLive(ctx(TIME_TO_LIVE), request));
  }

  @Override
  public void leaseLeases(LeaseLeasesRequest request, StreamObserver<LeaseLeasesResponse> out) {
    KvService.answer(out, () -> CompletableFuture.completedFuture(server.leaseLeases(ctx(LEASES))));
  }

  @Override
  public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> responses) {
    ServerCallStreamObserver<LeaseKeepAliveResponse> out = (ServerCallStreamObserver<LeaseKeepAliveResponse>) responses;
    KeepAlives stream = new KeepAlives(out);
    out.disableAutoRequest();
    out.setOnReadyHandler(stream::onReady);
    out.request(1);
    return stream;
  }

  /**
   * One keep-alive stream: a request is read only once the previous one is answered and gRPC's
   * transport can take the answer (it is ready), so a client that sends keep-alives without reading
   * the answers stops being read instead of having answers pile up in the member.
   */
  private final class KeepAlives implements StreamObserver<LeaseKeepAliveRequest> {
    private final ServerCallStreamObserver<LeaseKeepAliveResponse> out;
    // Guarded by this.
    private boolean done;
    /** The last request is answered; the next is read when the transport is ready. */
    private boolean readNextWhenReady;

    KeepAlives(ServerCallStreamObserver<LeaseKeepAliveResponse> out) {
      this.out = out;
    }

    @Override
    public void onNext(LeaseKeepAliveRequest req) {
      CompletableFuture<LeaseKeepAliveResponse> f;
      try {
        f = server.leaseRenew(KEEP_ALIVE, req.getID());
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      f.whenComplete((resp, err) -> {
        synchronized (this) {
          if (done) {
            return;
          }
          if (err != null) {
            done = true;
            out.onError(GrpcErrors.toStatus(err));
            return;
          }
          out.onNext(resp);
          readNextWhenReady = true;
          readNextIfReady();
        }
      });
    }

    synchronized void onReady() {
      readNextIfReady();
    }

    /** Reads the next request if the last one is answered and the transport takes more (holds this). */
    private void readNextIfReady() {
      if (readNextWhenReady && !done && out.isReady()) {
        readNextWhenReady = false;
        out.request(1);
      }
    }

    @Override
    public synchronized void onError(Throwable t) {
      done = true;
    }

    @Override
    public synchronized void onCompleted() {
      if (!done) {
        done = true;
        out.onCompleted();
      }
    }
  }
}
