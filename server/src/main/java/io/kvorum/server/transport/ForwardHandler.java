package io.kvorum.server.transport;

import java.util.concurrent.CompletableFuture;

/**
 * Serves requests peers forward to this member ({@link PeerTransport#forward}). A failed future's
 * message goes back to the caller as the text of a {@link ForwardException}.
 */
@FunctionalInterface
public interface ForwardHandler {
  /** Must not block; complete the future from any thread. */
  CompletableFuture<byte[]> handle(String method, byte[] payload);

  /** Refuses everything: a member that serves no forwarded requests. */
  ForwardHandler NONE = (method, payload) ->
      CompletableFuture.failedFuture(new UnsupportedOperationException("no handler for " + method));
}
