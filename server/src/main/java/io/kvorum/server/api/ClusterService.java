package io.kvorum.server.api;

import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.etcdserverpb.MemberAddRequest;
import io.kvorum.proto.etcdserverpb.MemberAddResponse;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberListResponse;
import io.kvorum.proto.etcdserverpb.MemberPromoteRequest;
import io.kvorum.proto.etcdserverpb.MemberPromoteResponse;
import io.kvorum.proto.etcdserverpb.MemberRemoveRequest;
import io.kvorum.proto.etcdserverpb.MemberRemoveResponse;
import io.kvorum.proto.etcdserverpb.MemberUpdateRequest;
import io.kvorum.proto.etcdserverpb.MemberUpdateResponse;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.ClusterServer;
import io.kvorum.server.etcdserver.MemberView;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Cluster service. The member list is the membership this member has applied; changes go
 * through the log as raft membership changes and are answered once applied here.
 */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
  private static final RequestContext ADD = Requests.base(ClusterGrpc.getMemberAddMethod());
  private static final RequestContext REMOVE = Requests.base(ClusterGrpc.getMemberRemoveMethod());
  private static final RequestContext UPDATE = Requests.base(ClusterGrpc.getMemberUpdateMethod());
  private static final RequestContext PROMOTE = Requests.base(ClusterGrpc.getMemberPromoteMethod());
  private final MemberView member;
  private final ClusterServer server;
  private final AuthServer auth;

  ClusterService(MemberView member, ClusterServer server, AuthServer auth) {
    this.member = member;
    this.server = server;
    this.auth = auth;
  }

  private RequestContext ctx(RequestContext base) {
    return Requests.current(base, member.clock());
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
    KvService.answer(out, () -> CompletableFuture.completedFuture(MemberListResponse.newBuilder()
        .setHeader(header()).addAllMembers(toProto(server.members())).build()));
  }

  @Override
  public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
    CallerCredentials.answer(out, auth, ctx(ADD), c -> server.memberAdd(c, request.getPeerURLsList(), request.getIsLearner())
        .thenApply(r -> MemberAddResponse.newBuilder().setHeader(header())
            // etcd answers the URLs as given, the member without name or client URLs yet.
            .setMember(Member.newBuilder().setID(r.member().id()).addAllPeerURLs(request.getPeerURLsList())
                .setIsLearner(r.member().isLearner()))
            .addAllMembers(toProto(r.members())).build()));
  }

  @Override
  public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
    CallerCredentials.answer(out, auth, ctx(REMOVE), c -> server.memberRemove(c, request.getID())
        .thenApply(ms -> MemberRemoveResponse.newBuilder().setHeader(header()).addAllMembers(toProto(ms)).build()));
  }

  @Override
  public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
    CallerCredentials.answer(out, auth, ctx(UPDATE), c -> server.memberUpdate(c, request.getID(), request.getPeerURLsList())
        .thenApply(ms -> MemberUpdateResponse.newBuilder().setHeader(header()).addAllMembers(toProto(ms)).build()));
  }

  @Override
  public void memberPromote(MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
    CallerCredentials.answer(out, auth, ctx(PROMOTE), c -> server.memberPromote(c, request.getID())
        .thenApply(ms -> MemberPromoteResponse.newBuilder().setHeader(header()).addAllMembers(toProto(ms)).build()));
  }

  /** etcd's cluster responses carry no revision. */
  private ResponseHeader header() {
    return ResponseHeader.newBuilder().setClusterId(member.clusterId()).setMemberId(member.memberId())
        .setRaftTerm(member.term()).build();
  }

  private static List<Member> toProto(List<io.kvorum.server.membership.Member> members) {
    return members.stream().map(io.kvorum.server.membership.Member::toProto).toList();
  }
}
