package io.kvorum.server.transport;

/**
 * A forwarded call did not get through: the peer is not connected, did not answer in time, is of
 * another cluster, or failed to serve it. (A call the peer served and refused is answered with
 * its error in the {@link io.kvorum.proto.raftpb.ForwardResponse}.) Callers may retry.
 */
public final class ForwardException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ForwardException(String message) {
    super(message, null, false, false);
  }
}
