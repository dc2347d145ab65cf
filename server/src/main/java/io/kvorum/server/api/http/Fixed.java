package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import java.util.concurrent.CompletableFuture;

/**
 * An exchange whose answer does not depend on the request body: it is sent once the body has
 * been read (discarded), as soon as it is known.
 */
final class Fixed implements Exchange {
  private final ChannelHandlerContext ctx;
  private final CompletableFuture<FullHttpResponse> answer;
  private final boolean keepAlive;
  private final String corsOrigin;
  private volatile boolean done;
  private boolean cancelled;

  private Fixed(ChannelHandlerContext ctx, CompletableFuture<FullHttpResponse> answer, boolean keepAlive,
      String corsOrigin) {
    this.ctx = ctx;
    this.answer = answer;
    this.keepAlive = keepAlive;
    this.corsOrigin = corsOrigin;
  }

  static Fixed now(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive, String corsOrigin) {
    return new Fixed(ctx, CompletableFuture.completedFuture(r), keepAlive, corsOrigin);
  }

  static Fixed later(ChannelHandlerContext ctx, CompletableFuture<FullHttpResponse> r, boolean keepAlive,
      String corsOrigin) {
    return new Fixed(ctx, r, keepAlive, corsOrigin);
  }

  @Override
  public void content(ByteBuf chunk) {}

  @Override
  public void end() {
    answer.whenComplete((r, err) -> ctx.executor().execute(() -> {
      if (cancelled) {
        if (r != null) {
          r.release();
        }
        return;
      }
      FullHttpResponse out = r != null ? r : Responses.error(500, "Internal Server Error");
      HttpSite.cors(out, corsOrigin);
      done = true;
      Responses.send(ctx, out, keepAlive);
    }));
  }

  @Override
  public void cancel() {
    cancelled = true;
  }

  @Override
  public boolean done() {
    return done;
  }
}
