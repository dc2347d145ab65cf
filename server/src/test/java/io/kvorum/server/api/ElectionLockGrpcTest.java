package io.kvorum.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.v3electionpb.CampaignRequest;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.ElectionGrpc;
import io.kvorum.proto.v3electionpb.LeaderRequest;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import io.kvorum.proto.v3electionpb.ProclaimRequest;
import io.kvorum.proto.v3electionpb.ResignRequest;
import io.kvorum.proto.v3lockpb.LockGrpc;
import io.kvorum.proto.v3lockpb.LockRequest;
import io.kvorum.proto.v3lockpb.UnlockRequest;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.testing.LocalCluster;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Election and Lock services over real gRPC on loopback: etcd's unmapped errors (UNKNOWN with
 * etcd's text), a client deadline releasing a waiting Campaign or Lock (watch closed, key
 * deleted), Observe as a server stream, and a require-leader Observe cut when the member loses
 * its leader.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ElectionLockGrpcTest {
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

  private EtcdServer single() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 1, b -> { });
    toClose.add(c);
    return c.leader(s -> s.lessor().isPrimary());
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static void assertUnknown(Runnable call, String message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
      assertThat(e.getStatus().getDescription()).isEqualTo(message);
    });
  }

  @Test
  void errors_goOutUnmapped_asUnknownWithEtcdsText() throws Exception {
    ManagedChannel ch = serve(single());
    var election = ElectionGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
    var lock = LockGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
    assertUnknown(() -> election.leader(LeaderRequest.newBuilder().setName(b("none")).build()), "election: no leader");
    assertUnknown(() -> election.campaign(CampaignRequest.newBuilder().setName(b("e")).setLease(12345).build()),
        "etcdserver: requested lease not found");
    assertUnknown(() -> election.proclaim(ProclaimRequest.getDefaultInstance()), "\"leader\" field must be provided");
    assertUnknown(() -> election.resign(ResignRequest.getDefaultInstance()), "\"leader\" field must be provided");
    CampaignResponse won = election.campaign(CampaignRequest.newBuilder().setName(b("e")).setValue(b("v")).build());
    assertUnknown(() -> election.proclaim(ProclaimRequest.newBuilder()
        .setLeader(won.getLeader().toBuilder().setRev(won.getLeader().getRev() + 1)).build()), "election: not leader");
    assertUnknown(() -> lock.lock(LockRequest.newBuilder().setName(b("l")).setLease(777).build()),
        "etcdserver: requested lease not found");
    assertUnknown(() -> lock.unlock(UnlockRequest.getDefaultInstance()), "etcdserver: key is not provided");
    assertThat(lock.unlock(UnlockRequest.newBuilder().setKey(b("absent")).build()).getHeader().getRevision())
        .isEqualTo(won.getHeader().getRevision());
  }

  @Test
  void aClientDeadline_endsAWaitingCampaignAndLock_releasingTheirWatchesAndKeys() throws Exception {
    EtcdServer m = single();
    ManagedChannel ch = serve(m);
    var lease = LeaseGrpc.newBlockingStub(ch);
    long a = lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(0xa).setTTL(100).build()).getID();
    long bLease = lease.leaseGrant(LeaseGrantRequest.newBuilder().setID(0xb).setTTL(100).build()).getID();
    var election = ElectionGrpc.newBlockingStub(ch);
    var lock = LockGrpc.newBlockingStub(ch);
    election.campaign(CampaignRequest.newBuilder().setName(b("d")).setLease(a).build());
    lock.lock(LockRequest.newBuilder().setName(b("dl")).setLease(a).build());

    assertThatThrownBy(() -> election.withDeadlineAfter(1, TimeUnit.SECONDS)
        .campaign(CampaignRequest.newBuilder().setName(b("d")).setLease(bLease).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThatThrownBy(() -> lock.withDeadlineAfter(1, TimeUnit.SECONDS)
        .lock(LockRequest.newBuilder().setName(b("dl")).setLease(bLease).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    LocalCluster.await("the waits' watches closed", () -> m.watchHub().watcherCount() == 0);
    var kv = KVGrpc.newBlockingStub(ch);
    LocalCluster.await("the waiters' keys deleted", () -> kv.range(RangeRequest.newBuilder().setKey(b("d"))
        .setRangeEnd(b("e")).build()).getCount() == 2);
    assertThat(kv.range(RangeRequest.newBuilder().setKey(b("d")).setRangeEnd(b("e")).build()).getKvsList())
        .extracting(k -> k.getKey().toStringUtf8()).containsExactly("d/a", "dl/a");
  }

  @Test
  void observe_streamsLeaders_andACancelReleasesItsWatch() throws Exception {
    EtcdServer m = single();
    ManagedChannel ch = serve(m);
    var election = ElectionGrpc.newBlockingStub(ch);
    CampaignResponse won = election.campaign(CampaignRequest.newBuilder().setName(b("o")).setValue(b("v1")).build());
    ClientCall<LeaderRequest, LeaderResponse> call = ch.newCall(ElectionGrpc.getObserveMethod(),
        io.grpc.CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
    var it = ClientCalls.blockingServerStreamingCall(call, LeaderRequest.newBuilder().setName(b("o")).build());
    LeaderResponse first = it.next();
    assertThat(first.getKv().getValue()).isEqualTo(b("v1"));
    election.proclaim(ProclaimRequest.newBuilder().setLeader(won.getLeader()).setValue(b("v2")).build());
    assertThat(it.next().getKv().getValue()).isEqualTo(b("v2"));
    LocalCluster.await("the observation watches the leader's key", () -> m.watchHub().watcherCount() == 1);
    call.cancel("done", null);
    LocalCluster.await("the observation's watch closed", () -> m.watchHub().watcherCount() == 0);
  }

  @Test
  void observe_withRequireLeader_endsWithNoLeader_whenTheMemberLosesItsLeader() throws Exception {
    LocalCluster c = LocalCluster.start(dir, 3, b -> { });
    toClose.add(c);
    EtcdServer leader = c.leader(s -> true);
    EtcdServer m = c.other(leader);
    ManagedChannel ch = serve(m);
    Metadata md = new Metadata();
    md.put(RequireLeader.HAS_LEADER, "true");
    var election = ElectionGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    election.campaign(CampaignRequest.newBuilder().setName(b("n")).setValue(b("v")).build());
    var it = election.withDeadlineAfter(60, TimeUnit.SECONDS).observe(LeaderRequest.newBuilder().setName(b("n")).build());
    assertThat(it.next().getKv().getValue()).isEqualTo(b("v"));
    for (EtcdServer other : List.copyOf(c.members().values())) {
      if (other != m) {
        c.stop(other);
      }
    }
    assertThatThrownBy(it::next).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: no leader");
    });
    LocalCluster.await("the observation's watch closed", () -> m.watchHub().watcherCount() == 0);
  }
}
