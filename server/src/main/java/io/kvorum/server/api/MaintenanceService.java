package io.kvorum.server.api;

import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.DefragmentResponse;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.MoveLeaderResponse;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.raft.Status;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.etcdserver.MaintenanceServer;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.concurrent.CompletableFuture;

/** etcd's Maintenance service (status, hashes, alarms, defragment). */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
  private static final RequestContext HASH = Requests.base(MaintenanceGrpc.getHashMethod());
  private static final RequestContext HASH_KV = Requests.base(MaintenanceGrpc.getHashKVMethod());
  private static final RequestContext ALARM = Requests.base(MaintenanceGrpc.getAlarmMethod());
  private static final RequestContext DEFRAGMENT = Requests.base(MaintenanceGrpc.getDefragmentMethod());
  private static final RequestContext MOVE_LEADER = Requests.base(MaintenanceGrpc.getMoveLeaderMethod());
  private final MemberView member;
  private final MaintenanceServer server;
  private final AuthServer auth;

  MaintenanceService(MemberView member, MaintenanceServer server, AuthServer auth) {
    this.member = member;
    this.server = server;
    this.auth = auth;
  }

  private RequestContext ctx(RequestContext base) {
    return Requests.current(base, member.clock());
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
    KvService.answer(out, () -> {
      Status st = server.raftStatus();
      long db = server.dbSizeBytes();
      return CompletableFuture.completedFuture(StatusResponse.newBuilder()
          .setHeader(member.header())
          .setVersion(EtcdServer.SERVER_VERSION)
          .setDbSize(db)
          .setDbSizeInUse(db)
          .setLeader(member.leader())
          .setRaftIndex(st.hardState().commit())
          .setRaftTerm(st.hardState().term())
          .setRaftAppliedIndex(server.appliedIndex())
          .setIsLearner(st.config().learners().contains(member.memberId()))
          .build());
    });
  }

  @Override
  public void hash(HashRequest request, StreamObserver<HashResponse> out) {
    CallerCredentials.answerAuthUnmapped(out, auth, ctx(HASH), server::hash);
  }

  @Override
  public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> out) {
    CallerCredentials.answerAuthUnmapped(out, auth, ctx(HASH_KV), c -> server.hashKv(c, request.getRevision()));
  }

  @Override
  public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> out) {
    // No alarm is ever raised yet (quota and corruption checks arrive later): list answers empty,
    // and like etcd 3.4's the answer carries no header.
    // etcd proposes it, so a bad token fails it; no permission is checked.
    CallerCredentials.answer(out, auth, ctx(ALARM), c -> CompletableFuture.completedFuture(
        AlarmResponse.getDefaultInstance()));
  }

  @Override
  public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> out) {
    // etcd 3.4 answers an empty response, without a header.
    KvService.answer(out, () -> server.moveLeader(ctx(MOVE_LEADER), request.getTargetID())
        .thenApply(v -> MoveLeaderResponse.getDefaultInstance()));
  }

  @Override
  public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> out) {
    // RocksDB compacts its files in the background; there is no stop-the-world defragmentation.
    // etcd 3.4 answers an empty response, without a header, to the root user.
    CallerCredentials.answerAuthUnmapped(out, auth, ctx(DEFRAGMENT),
        c -> server.defragment(c).thenApply(v -> DefragmentResponse.getDefaultInstance()));
  }
}
