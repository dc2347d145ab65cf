package io.kvorum.server.concurrency;

import io.kvorum.server.etcdserver.AuthServer;
import io.kvorum.server.etcdserver.Credentials;
import io.kvorum.server.etcdserver.KvServer;
import io.kvorum.server.etcdserver.LeaseServer;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.server.watch.WatchHub;

/** The member's services elections and locks are built on (what etcd's {@code v3client} wraps). */
record Services(KvServer kv, LeaseServer leases, AuthServer auth, WatchHub hub) {
  /** A client calling as {@code caller}, within its deadline. */
  MemberClient as(Caller caller) {
    return new MemberClient(this, caller.context(), caller.credentials());
  }

  /**
   * etcd's {@code client.Ctx()}: the client's own background context, with neither the caller's
   * credentials nor its deadline. etcd cleans up with it after the caller went away (a candidate
   * resigning, a waiter's lock key deleted); with auth on, such a call names no user and is refused,
   * and the key stays until its lease ends, as in etcd.
   */
  MemberClient background(Caller caller) {
    return new MemberClient(this, RequestContext.of(caller.context().method()), Credentials.NONE);
  }
}
