package io.kvorum.server.etcdserver;

/**
 * What the API edge knows about a client request and every layer after it needs: who asks (the
 * user its token or client certificate names, and the auth store's revision that credential
 * stands for — empty and 0 for a request without one), until when the client waits, and what to
 * count it as.
 *
 * @param method the full gRPC method name, for metrics and logs ({@code etcdserverpb.KV/Put})
 * @param user the authenticated user, empty without auth
 * @param authRevision the auth store's revision the user was checked at, 0 without auth
 * @param deadlineNanos the client's deadline on the member's clock; {@link #NO_DEADLINE} if none
 */
public record RequestContext(String method, String user, long authRevision, long deadlineNanos) {
  public static final long NO_DEADLINE = Long.MAX_VALUE;

  /** A request the member makes itself (lease expiry and checkpoints, publishing its attributes). */
  public static final RequestContext MEMBER = new RequestContext("member", "", 0, NO_DEADLINE);

  /** A request from the named method with no user and no deadline. */
  public static RequestContext of(String method) {
    return new RequestContext(method, "", 0, NO_DEADLINE);
  }

  /** This context as user {@code user} at auth revision {@code authRevision}. */
  public RequestContext withAuth(String user, long authRevision) {
    return new RequestContext(method, user, authRevision, deadlineNanos);
  }

  public RequestContext withDeadline(long deadlineNanos) {
    return new RequestContext(method, user, authRevision, deadlineNanos);
  }
}
