package io.kvorum.server.api;

import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberListResponse;
import io.kvorum.server.etcdserver.EtcdServer;
import java.util.concurrent.CompletableFuture;

/** etcd's Cluster service: the member list as this member has applied it. */
final class ClusterService extends ClusterGrpc.ClusterImplBase {
  private final EtcdServer server;

  ClusterService(EtcdServer server) {
    this.server = server;
  }

  @Override
  public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
    KvService.answer(out, () -> {
      MemberListResponse.Builder b = MemberListResponse.newBuilder().setHeader(server.header());
      for (io.kvorum.server.membership.Member m : server.membership().list()) {
        b.addMembers(Member.newBuilder().setID(m.id()).setName(m.name()).addAllPeerURLs(m.peerUrls())
            .addAllClientURLs(m.clientUrls()).setIsLearner(m.isLearner()));
      }
      return CompletableFuture.completedFuture(b.build());
    });
  }
}
