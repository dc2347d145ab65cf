package io.kvorum.server.transport;

/**
 * A forwarded request failed. {@link #remote()} tells whether the peer's handler refused it (the
 * message is the handler's) or it did not get there (no connection, timeout, wrong cluster).
 */
public final class ForwardException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final boolean remote;

  public ForwardException(String message, boolean remote) {
    super(message, null, false, false);
    this.remote = remote;
  }

  public boolean remote() {
    return remote;
  }
}
