package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;

/**
 * One HTTP request being answered on a connection. Called on the connection's event loop: with
 * each piece of the request body, at its end, and when the connection goes away first.
 */
interface Exchange {
  /** A piece of the body; the exchange does not keep {@code chunk} past the call. */
  void content(ByteBuf chunk);

  /** The request body ended. */
  void end();

  /** The connection closed: stop and release what the exchange holds. */
  void cancel();

  /** True once the response is complete (the connection may take the next request). */
  boolean done();
}
