package io.kvorum.server.transport;

import io.kvorum.proto.raftpb.ForwardRequest;
import io.kvorum.proto.raftpb.ForwardResponse;
import io.kvorum.proto.raftpb.MembersResponse;
import java.util.concurrent.CompletableFuture;

/**
 * Serves what peers ask this member for: calls forwarded to it ({@link PeerTransport#forward}),
 * which it answers with a typed result or an etcd error in the response, and the cluster a joining
 * member asks for.
 */
public interface ForwardHandler {
  /**
   * Must not block; complete the future from any thread. A future that fails (rather than
   * answering an error) tells the caller the call did not get through.
   */
  CompletableFuture<ForwardResponse> handle(ForwardRequest request);

  /** The cluster as this member applied it, for a member about to join. */
  MembersResponse members();

  /** Refuses everything: a member that serves no forwarded requests. */
  ForwardHandler NONE = new ForwardHandler() {
    @Override
    public CompletableFuture<ForwardResponse> handle(ForwardRequest request) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("no handler for " + request.getCallCase()));
    }

    @Override
    public MembersResponse members() {
      throw new UnsupportedOperationException("this member serves no cluster information");
    }
  };
}
