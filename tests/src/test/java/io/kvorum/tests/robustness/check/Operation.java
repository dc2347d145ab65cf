package io.kvorum.tests.robustness.check;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One client operation as recorded: who, when it was invoked and completed (nanoseconds on the
 * recorder's clock), what it asked and what it got. An operation whose outcome is unknown (a
 * timeout, a lost connection) has {@code completeNanos == Long.MAX_VALUE} and no response: it may
 * or may not have taken effect, at any time after its invocation.
 */
public record Operation(int client, long invokeNanos, long completeNanos, Request request, Response response) {
  /** The completion time of an operation whose outcome is unknown. */
  public static final long UNKNOWN_COMPLETE_NANOS = Long.MAX_VALUE;

  public Operation {
    Objects.requireNonNull(request, "request");
    if (completeNanos < invokeNanos) {
      throw new IllegalArgumentException("completed before invoked: " + completeNanos + " < " + invokeNanos);
    }
    if ((completeNanos == UNKNOWN_COMPLETE_NANOS) != (response == null)) {
      throw new IllegalArgumentException("an operation has a response exactly when its completion is known");
    }
    if (response != null && !answers(request, response)) {
      throw new IllegalArgumentException(response + " does not answer " + request);
    }
  }

  /** An acknowledged operation. */
  public static Operation completed(int client, long invokeNanos, long completeNanos, Request request, Response response) {
    return new Operation(client, invokeNanos, completeNanos, request, Objects.requireNonNull(response, "response"));
  }

  /** An operation whose outcome is unknown. */
  public static Operation unknown(int client, long invokeNanos, Request request) {
    return new Operation(client, invokeNanos, UNKNOWN_COMPLETE_NANOS, request, null);
  }

  public String key() {
    return request.key();
  }

  public boolean known() {
    return response != null;
  }

  /** Whether this operation may change the key: a put, a delete or a compare-and-set. */
  public boolean isWrite() {
    return !(request instanceof Request.Get);
  }

  /** The revision this operation's write created, when it is acknowledged and wrote. */
  public OptionalLong writeRevision() {
    if (response instanceof Response.Put p) {
      return OptionalLong.of(p.revision());
    }
    if (response instanceof Response.Delete d && d.deleted()) {
      return OptionalLong.of(d.revision());
    }
    if (response instanceof Response.CompareAndSet c && c.succeeded()) {
      return OptionalLong.of(c.revision());
    }
    return OptionalLong.empty();
  }

  private static boolean answers(Request request, Response response) {
    return request instanceof Request.Put && response instanceof Response.Put
        || request instanceof Request.Get && response instanceof Response.Get
        || request instanceof Request.Delete && response instanceof Response.Delete
        || request instanceof Request.CompareAndSet && response instanceof Response.CompareAndSet;
  }

  @Override
  public String toString() {
    String end = known() ? Long.toString(completeNanos) : "?";
    return "c" + client + "[" + invokeNanos + ".." + end + "] " + request + " -> " + (known() ? response : "unknown");
  }
}
