package io.kvorum.server.etcdserver;

import io.kvorum.proto.serverpb.InternalRaftRequest;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.server.apply.Published;
import io.kvorum.server.clock.Clock;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member publishes its name and client URLs through the log once it started (etcd's publish),
 * so that every member lists them; it tries again every {@link #RETRY} until the entry is applied
 * here or the member stops.
 */
final class Publication {
  private static final Logger LOG = LoggerFactory.getLogger(Publication.class);
  /** How soon a member tries again to publish its attributes. */
  static final Duration RETRY = Duration.ofMillis(50);

  private final Proposer proposer;
  private final Clock clock;
  private final CompletableFuture<Void> published = new CompletableFuture<>();

  Publication(Proposer proposer, Clock clock) {
    this.proposer = proposer;
    this.clock = clock;
  }

  /** Starts publishing; the future completes once this member applied the attributes. */
  CompletableFuture<Void> publish(long memberId, String name, List<URI> clientUrls) {
    InternalRaftRequest.Builder req = InternalRaftRequest.newBuilder().setPublish(MemberAttributes.newBuilder()
        .setMemberId(memberId).setName(name).addAllClientUrls(clientUrls.stream().map(URI::toString).toList()));
    attempt(req);
    return published;
  }

  private void attempt(InternalRaftRequest.Builder req) {
    if (proposer.isStopped() || published.isDone()) {
      return;
    }
    proposer.proposeEvenIfBehind(RequestContext.MEMBER, req.clone(), Published.class).whenComplete((v, err) -> {
      if (err == null) {
        published.complete(null);
      } else {
        LOG.debug("publish not applied yet: {}", err.toString());
        clock.schedule(RETRY, () -> attempt(req));
      }
    });
  }
}
