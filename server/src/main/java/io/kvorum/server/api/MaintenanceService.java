package io.kvorum.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.DefragmentResponse;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashKVResponse;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.MoveLeaderResponse;
import io.kvorum.proto.etcdserverpb.SnapshotRequest;
import io.kvorum.proto.etcdserverpb.SnapshotResponse;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import io.kvorum.raft.Status;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.EtcdServer;
import io.kvorum.server.etcdserver.MaintenanceServer;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.server.errors.EtcdError;
import java.util.concurrent.CompletableFuture;

/** etcd's Maintenance service (status, hashes, alarms, defragment, snapshot, leader moves). */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
  private static final RequestContext HASH = Requests.base(MaintenanceGrpc.getHashMethod());
  private static final RequestContext HASH_KV = Requests.base(MaintenanceGrpc.getHashKVMethod());
  private static final RequestContext ALARM = Requests.base(MaintenanceGrpc.getAlarmMethod());
  private static final RequestContext DEFRAGMENT = Requests.base(MaintenanceGrpc.getDefragmentMethod());
  private static final RequestContext SNAPSHOT = Requests.base(MaintenanceGrpc.getSnapshotMethod());
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
      StatusResponse.Builder b = StatusResponse.newBuilder()
          .setHeader(member.header())
          .setVersion(EtcdServer.SERVER_VERSION)
          .setDbSize(db)
          .setDbSizeInUse(db)
          .setLeader(member.leader())
          .setRaftIndex(st.hardState().commit())
          .setRaftTerm(st.hardState().term())
          .setRaftAppliedIndex(server.appliedIndex())
          .setIsLearner(st.config().learners().contains(member.memberId()));
      if (b.getLeader() == 0) {
        b.addErrors(EtcdError.NO_LEADER.message());
      }
      for (AlarmMember a : server.alarms()) {
        b.addErrors(alarmText(a));
      }
      return CompletableFuture.completedFuture(b.build());
    });
  }

  /**
   * An alarm as etcd's {@code Status} lists it: the Go text of its proto in compact form
   * ({@code memberID:10276657743932975437 alarm:NOSPACE }: zero fields left out, each field
   * followed by a space, an unknown type by its number).
   */
  static String alarmText(AlarmMember a) {
    StringBuilder sb = new StringBuilder();
    if (a.getMemberID() != 0) {
      sb.append("memberID:").append(Long.toUnsignedString(a.getMemberID())).append(' ');
    }
    if (a.getAlarmValue() != 0) {
      sb.append("alarm:").append(a.getAlarm() == AlarmType.UNRECOGNIZED ? String.valueOf(a.getAlarmValue())
          : a.getAlarm().name()).append(' ');
    }
    return sb.toString();
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
    // Every action goes through the log, as in etcd, so a bad token fails it; no permission is
    // checked. Like etcd 3.4's, the answer carries no header.
    CallerCredentials.answer(out, auth, ctx(ALARM), c -> server.alarm(c, request));
  }

  @Override
  public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> out) {
    // For the root user, as in etcd 3.4, whose auth failures go out unmapped (UNKNOWN).
    SnapshotSender sender = new SnapshotSender((ServerCallStreamObserver<SnapshotResponse>) out);
    CallerCredentials.callAuthUnmapped(auth, ctx(SNAPSHOT), server::snapshot).whenComplete(sender::start);
  }

  @Override
  public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> out) {
    // etcd 3.4 answers an empty response, without a header.
    KvService.answer(out, () -> server.moveLeader(ctx(MOVE_LEADER), request.getTargetID())
        .thenApply(v -> MoveLeaderResponse.getDefaultInstance()));
  }

  @Override
  public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> out) {
    // A full compaction of the backend beside reads and writes (no stop-the-world defragmentation).
    // etcd 3.4 answers an empty response, without a header, to the root user.
    CallerCredentials.answerAuthUnmapped(out, auth, ctx(DEFRAGMENT),
        c -> server.defragment(c).thenApply(v -> DefragmentResponse.getDefaultInstance()));
  }
}
