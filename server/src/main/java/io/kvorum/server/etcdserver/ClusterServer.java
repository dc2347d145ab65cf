package io.kvorum.server.etcdserver;

import io.kvorum.server.membership.Member;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** etcd's Cluster service as the member serves it: the applied membership and changes to it. */
public interface ClusterServer {
  /** The applied membership. */
  List<Member> members();

  CompletableFuture<MemberAdded> memberAdd(RequestContext ctx, List<String> peerUrls, boolean learner);

  CompletableFuture<List<Member>> memberRemove(RequestContext ctx, long id);

  CompletableFuture<List<Member>> memberUpdate(RequestContext ctx, long id, List<String> peerUrls);

  /** Promotes a learner; only the leader decides, so a follower forwards the request to it. */
  CompletableFuture<List<Member>> memberPromote(RequestContext ctx, long id);
}
