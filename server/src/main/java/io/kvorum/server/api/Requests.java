package io.kvorum.server.api;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.etcdserver.RequestContext;
import java.util.concurrent.TimeUnit;

/**
 * The request context of the gRPC call being served (handlers run on the call's thread, so its
 * {@link Context} is current): the method, and the client's deadline converted to the member's
 * clock. The user and auth revision join it once auth exists.
 */
final class Requests {
  private Requests() {}

  /** The context of a call of {@code method} without a user; reuse it per method. */
  static RequestContext base(MethodDescriptor<?, ?> method) {
    return RequestContext.of(method.getFullMethodName());
  }

  /** {@code base} with the current call's deadline, if the client set one. */
  static RequestContext current(RequestContext base, Clock clock) {
    Deadline d = Context.current().getDeadline();
    if (d == null) {
      return base;
    }
    return base.withDeadline(clock.nanos() + d.timeRemaining(TimeUnit.NANOSECONDS));
  }
}
