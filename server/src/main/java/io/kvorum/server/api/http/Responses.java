package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Whole responses, written the way Go's net/http writes them. */
final class Responses {
  static final String TEXT = "text/plain; charset=utf-8";
  static final String JSON = "application/json";
  /** Header names as Go writes them (canonical case). */
  static final String CONTENT_TYPE = "Content-Type";
  static final String CONTENT_LENGTH = "Content-Length";

  private Responses() {}

  /** Go's {@code http.Error}: the message and a newline, as plain text that is not to be sniffed. */
  static FullHttpResponse error(int status, String message) {
    FullHttpResponse r = full(status, TEXT, (message + "\n").getBytes(StandardCharsets.UTF_8));
    r.headers().set("X-Content-Type-Options", "nosniff");
    return r;
  }

  static FullHttpResponse full(int status, String contentType, byte[] body) {
    return full(status, contentType, Unpooled.wrappedBuffer(body));
  }

  static FullHttpResponse full(int status, String contentType, ByteBuf body) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), body);
    r.headers().set(CONTENT_TYPE, contentType);
    r.headers().setInt(CONTENT_LENGTH, body.readableBytes());
    return r;
  }

  /** Writes {@code r} and closes the connection after it unless the request kept it alive. */
  static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    if (!keepAlive) {
      r.headers().set("Connection", HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(r);
    }
  }
}
