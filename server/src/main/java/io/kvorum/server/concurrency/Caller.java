package io.kvorum.server.concurrency;

import io.kvorum.server.etcdserver.Credentials;
import io.kvorum.server.etcdserver.RequestContext;

/**
 * The client an election or lock call is served for: its request context (method and deadline)
 * and the credentials it presented, which every call the member makes for it carries, as etcd's
 * in-process client passes the caller's context (and so its token) to each call.
 *
 * @param context the call's context, without a user: the credentials are identified per call
 * @param credentials what the call presented, {@link Credentials#NONE} without anything
 */
public record Caller(RequestContext context, Credentials credentials) {
  /** A call without credentials (tests, and auth off). */
  public static Caller of(RequestContext context) {
    return new Caller(context, Credentials.NONE);
  }
}
