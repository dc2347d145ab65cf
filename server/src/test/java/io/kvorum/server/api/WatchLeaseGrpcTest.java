package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveResponse;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.WatchCancelRequest;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchProgressRequest;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The Watch and Lease services over real gRPC on loopback, with etcd's responses and errors. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WatchLeaseGrpcTest {
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private ManagedChannel serve(EtcdServer server) throws Exception {
    ClientServer cs = ClientServer.start(server, List.of(URI.create("http://127.0.0.1:0")));
    toClose.add(cs);
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", cs.ports().get(0)).usePlaintext().build();
    toClose.add(ch::shutdownNow);
    return ch;
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  /** A client stream: requests out, responses (or the error, or "completed") into a queue. */
  static class Recorder<Q, R> implements StreamObserver<R> {
    final BlockingQueue<Object> in = new LinkedBlockingQueue<>();
    StreamObserver<Q> out;

    @Override
    public void onNext(R r) {
      in.add(r);
    }

    @Override
    public void onError(Throwable t) {
      in.add(t);
    }

    @Override
    public void onCompleted() {
      in.add("completed");
    }

    Object next() throws InterruptedException {
      Object o = in.poll(20, TimeUnit.SECONDS);
      assertThat(o).as("a response within 20 s").isNotNull();
      return o;
    }
  }

  /** A watch stream. */
  static final class Client extends Recorder<WatchRequest, WatchResponse> {
    WatchResponse response() throws InterruptedException {
      Object o = next();
      assertThat(o).isInstanceOf(WatchResponse.class);
      return (WatchResponse) o;
    }

    void create(WatchCreateRequest.Builder c) {
      out.onNext(WatchRequest.newBuilder().setCreateRequest(c).build());
    }
  }

  @Test
  void watch_createdEventsProgressCancel_andEtcdsCreateErrors() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 1, b -> { });
    toClose.add(c);
    EtcdServer m = c.leader(s -> true);
    ManagedChannel ch = serve(m);
    Client w = new Client();
    w.out = WatchGrpc.newStub(ch).watch(w);

    w.create(WatchCreateRequest.newBuilder().setKey(b("k")));
    WatchResponse created = w.response();
    assertThat(created.getCreated()).isTrue();
    assertThat(created.getWatchId()).isZero();
    long rev = KVGrpc.newBlockingStub(ch).put(PutRequest.newBuilder().setKey(b("k")).setValue(b("v")).build())
        .getHeader().getRevision();
    WatchResponse ev = w.response();
    assertThat(ev.getWatchId()).isZero();
    assertThat(ev.getHeader().getRevision()).isEqualTo(rev);
    assertThat(ev.getEvents(0).getKv().getValue().toStringUtf8()).isEqualTo("v");

    w.create(WatchCreateRequest.newBuilder().setKey(b("k")).setWatchId(7).setStartRevision(rev).setPrevKv(true));
    assertThat(w.response().getWatchId()).isEqualTo(7);
    assertThat(w.response().getEvents(0).getKv().getModRevision()).as("replayed from history").isEqualTo(rev);

    w.create(WatchCreateRequest.newBuilder().setKey(b("x")).setWatchId(7));
    WatchResponse dup = w.response();
    assertThat(dup.getCreated()).isTrue();
    assertThat(dup.getCanceled()).isTrue();
    assertThat(dup.getWatchId()).isEqualTo(-1);
    assertThat(dup.getCancelReason()).isEqualTo("mvcc: duplicate watch ID provided on the WatchStream");

    w.create(WatchCreateRequest.newBuilder().setKey(b("b")).setRangeEnd(b("a")));
    assertThat(w.response().getCancelReason()).isEqualTo("mvcc: watcher range is empty");

    w.out.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
    WatchResponse progress = w.response();
    assertThat(progress.getWatchId()).isEqualTo(-1);
    assertThat(progress.getEventsCount()).isZero();
    assertThat(progress.getHeader().getRevision()).isEqualTo(rev);

    KVGrpc.newBlockingStub(ch).put(PutRequest.newBuilder().setKey(b("k")).setValue(b("w")).build());
    WatchResponse a = w.response();
    WatchResponse b2 = w.response();
    WatchResponse withPrev = a.getWatchId() == 7 ? a : b2;
    assertThat(withPrev.getEvents(0).getPrevKv().getValue().toStringUtf8()).isEqualTo("v");

    w.out.onNext(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(7)).build());
    WatchResponse canceled = w.response();
    assertThat(canceled.getCanceled()).isTrue();
    assertThat(canceled.getWatchId()).isEqualTo(7);
    // As etcd: the client closing its side ends nothing; watch 0 still delivers.
    w.out.onCompleted();
    long after = KVGrpc.newBlockingStub(ch).put(PutRequest.newBuilder().setKey(b("k")).setValue(b("x")).build())
        .getHeader().getRevision();
    WatchResponse still = w.response();
    assertThat(still.getWatchId()).isZero();
    assertThat(still.getHeader().getRevision()).isEqualTo(after);
  }

  @Test
  void leaseKeepAliveStream_renewsAndAnswersZeroForAnUnknownLease() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 1, b -> { });
    toClose.add(c);
    EtcdServer m = c.leader(s -> s.lessor().isPrimary());
    ManagedChannel ch = serve(m);
    long id = LeaseGrpc.newBlockingStub(ch).leaseGrant(LeaseGrantRequest.newBuilder().setTTL(10).build()).getID();
    assertThat(id).isPositive();
    assertThat(LeaseGrpc.newBlockingStub(ch).leaseGrant(LeaseGrantRequest.newBuilder().setID(77).setTTL(0).build())
        .getTTL()).as("raised to the minimum TTL: 1.5 election timeouts of 500 ms, rounded up").isEqualTo(1);
    assertThatThrownBy(() -> LeaseGrpc.newBlockingStub(ch).leaseGrant(LeaseGrantRequest.newBuilder().setID(77)
        .setTTL(5).build())).hasMessage("FAILED_PRECONDITION: etcdserver: lease already exists");
    assertThatThrownBy(() -> LeaseGrpc.newBlockingStub(ch).leaseGrant(LeaseGrantRequest.newBuilder()
        .setTTL(9_000_000_001L).build())).hasMessage("OUT_OF_RANGE: etcdserver: too large lease TTL");
    assertThatThrownBy(() -> LeaseGrpc.newBlockingStub(ch).leaseRevoke(
        io.kvorum.proto.etcdserverpb.LeaseRevokeRequest.newBuilder().setID(78).build()))
        .hasMessage("NOT_FOUND: etcdserver: requested lease not found");
    Recorder<LeaseKeepAliveRequest, LeaseKeepAliveResponse> ka = new Recorder<>();
    ka.out = LeaseGrpc.newStub(ch).leaseKeepAlive(ka);
    StreamObserver<LeaseKeepAliveRequest> out = ka.out;
    out.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
    out.onNext(LeaseKeepAliveRequest.newBuilder().setID(424242).build());
    LeaseKeepAliveResponse r1 = (LeaseKeepAliveResponse) ka.next();
    LeaseKeepAliveResponse r2 = (LeaseKeepAliveResponse) ka.next();
    assertThat(r1.getID()).isEqualTo(id);
    assertThat(r1.getTTL()).isEqualTo(10);
    assertThat(r2.getID()).isEqualTo(424242);
    assertThat(r2.getTTL()).isZero();
    out.onCompleted();
    assertThat(LeaseGrpc.newBlockingStub(ch).leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(424242).build())
        .getTTL()).isEqualTo(-1);
  }

  @Test
  void requireLeader_refusesNewCalls_andEndsOpenWatches_onceTheMemberHasNoLeader() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 3, b -> { });
    toClose.add(c);
    EtcdServer leader = c.leader(s -> true);
    EtcdServer follower = c.other(leader);
    // The leader is elected before every follower has heard from it.
    LocalCluster.await("the follower knows the leader", () -> follower.leader() == leader.memberId());
    ManagedChannel ch = serve(follower);
    Metadata md = new Metadata();
    md.put(RequireLeader.HAS_LEADER, "true");
    Client w = new Client();
    w.out = WatchGrpc.newStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).watch(w);
    w.create(WatchCreateRequest.newBuilder().setKey(b("k")));
    assertThat(w.response().getCreated()).isTrue();

    for (EtcdServer s : new ArrayList<>(c.members().values())) {
      if (s != follower) {
        c.stop(s);
      }
    }
    Object end = w.next();
    assertThat(end).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) end).getStatus().getDescription()).isEqualTo("etcdserver: no leader");

    LocalCluster.await("the member knows it has no leader", () -> follower.leader() == 0);
    Client again = new Client();
    again.out = WatchGrpc.newStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).watch(again);
    Object refused = again.next();
    assertThat(refused).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) refused).getStatus().getDescription()).isEqualTo("etcdserver: no leader");
  }
}
