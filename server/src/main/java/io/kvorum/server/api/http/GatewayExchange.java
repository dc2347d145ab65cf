package io.kvorum.server.api.http;

import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultLastHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaders;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import io.kvorum.server.gojson.GoDecoder;
import io.kvorum.server.gojson.GoJsonException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;

/**
 * One gateway call: the request body's JSON objects become the call's messages, and its answers
 * become the HTTP response — one JSON object for a unary call; for a stream, each message as
 * {@code {"result":…}} and a newline, flushed one by one with chunked encoding, and an error as
 * grpc-gateway's error chunk. The next message is asked for only once the previous one is
 * written, so a slow HTTP client holds one message, not a backlog.
 *
 * <p>Everything but the call's callbacks runs on the connection's event loop; the callbacks hop
 * onto it. The call starts once the gateway's stream limit gives it a slot (it may wait).
 */
final class GatewayExchange implements Exchange {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String METADATA_HEADER_PREFIX = "grpc-metadata-";
  /** The trailer grpc-gateway forwards from a failed call. */
  private static final String TRAILER = "Grpc-Trailer-Content-Type";
  /** The bound on a body's bytes, as a multiple of the message limit (JSON and base64 grow a message). */
  private static final long JSON_BYTES_PER_MESSAGE_BYTE = 4;

  private final ChannelHandlerContext ctx;
  private final Gateway.Route route;
  private final Channel channel;
  private final GatewayStreams streams;
  private final long maxMessageBytes;
  private final HttpHeaders requestHeaders;
  private final boolean keepAlive;
  private final String corsOrigin;
  private final GoDecoder decoder;
  private final ArrayDeque<Message> pending = new ArrayDeque<>();
  private final Runnable start = this::scheduleStart;

  private Metadata metadata;
  private ClientCall<Message, Message> call;
  private boolean started;
  private boolean released;
  private boolean bodyEnded;
  private boolean halfClosed;
  private boolean inputStopped;
  private int accepted;
  private boolean headersSent;
  private boolean cancelled;
  private boolean finished;
  private volatile boolean done;
  private String unaryAnswer;

  GatewayExchange(ChannelHandlerContext ctx, Gateway.Route route, Channel channel, GatewayStreams streams,
      long maxMessageBytes, HttpHeaders requestHeaders, boolean keepAlive, String corsOrigin) {
    this.ctx = ctx;
    this.route = route;
    this.channel = channel;
    this.streams = streams;
    this.maxMessageBytes = maxMessageBytes;
    this.requestHeaders = requestHeaders;
    this.keepAlive = keepAlive;
    this.corsOrigin = corsOrigin;
    this.decoder = new GoDecoder(maxMessageBytes * JSON_BYTES_PER_MESSAGE_BYTE);
  }

  /** Reads the request's headers and asks for a slot. */
  void open() {
    try {
      metadata = metadata(requestHeaders);
    } catch (IllegalArgumentException e) {
      fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
      return;
    }
    if (!streams.acquire(start)) {
      fail(Status.UNAVAILABLE.withDescription("too many gateway calls waiting for a stream"));
    }
  }

  /**
   * grpc-gateway's header mapping: {@code Authorization} as {@code authorization} (the raw
   * token), HTTP's permanent headers as {@code grpcgateway-…}, {@code Grpc-Metadata-X} as
   * {@code x}.
   */
  static Metadata metadata(HttpHeaders headers) {
    Metadata md = new Metadata();
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (name.equals("authorization")) {
        md.put(AUTHORIZATION, h.getValue());
      } else if (name.equals("accept") || name.equals("user-agent") || name.equals("accept-language")
          || name.equals("cache-control") || name.equals("accept-charset")) {
        md.put(Metadata.Key.of("grpcgateway-" + name, Metadata.ASCII_STRING_MARSHALLER), h.getValue());
      } else if (name.startsWith(METADATA_HEADER_PREFIX) && name.length() > METADATA_HEADER_PREFIX.length()
          && !name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        md.put(Metadata.Key.of(name.substring(METADATA_HEADER_PREFIX.length()), Metadata.ASCII_STRING_MARSHALLER),
            h.getValue());
      }
    }
    return md;
  }

  private void scheduleStart() {
    ctx.executor().execute(this::startCall);
  }

  private void startCall() {
    started = true;
    if (cancelled || finished) {
      release();
      return;
    }
    call = channel.newCall(route.method(), CallOptions.DEFAULT);
    call.start(new Listener(), metadata);
    call.request(1);
    flush();
  }

  /**
   * Reads the body as grpc-gateway does, with Go's {@code json.Decoder}: a unary call takes the
   * first JSON value and never looks at the rest; a stream takes value after value.
   */
  @Override
  public void content(ByteBuf chunk) {
    try {
      for (int i = chunk.readerIndex(); i < chunk.writerIndex(); i++) {
        if (finished || inputStopped || (!route.clientStreaming() && accepted > 0)) {
          return;
        }
        byte[] value = decoder.write(chunk.getByte(i));
        if (value != null) {
          accept(value);
        }
      }
    } catch (GoJsonException e) {
      badInput(e.getMessage());
      return;
    }
    flush();
  }

  private void accept(byte[] json) {
    Message m;
    try {
      m = JsonPbParser.parse(route.requestPrototype(), json);
    } catch (JsonPbParser.RefusedException e) {
      if (e.decoding()) {
        badInput(e.getMessage());
      } else {
        refused(Status.INTERNAL.withDescription(e.getMessage()));
      }
      return;
    }
    int size = m.getSerializedSize();
    if (size > maxMessageBytes) {
      // What the gRPC server answers a message over its limit.
      fail(Status.RESOURCE_EXHAUSTED.withDescription(
          "grpc: received message larger than max (" + size + " vs. " + maxMessageBytes + ")"));
      return;
    }
    accepted++;
    pending.add(m);
  }

  /**
   * A body that does not decode: the call is refused (grpc-gateway's InvalidArgument for a unary
   * call; for a stream's first message the decoder's error as it is, which the gateway answers as
   * Unknown); a stream that already runs stops reading, as the gateway's send loop does.
   */
  private void badInput(String message) {
    refused((route.clientStreaming() ? Status.UNKNOWN : Status.INVALID_ARGUMENT).withDescription(message));
  }

  /**
   * A request refused before it reached the call: before any message went, grpc-gateway's plain
   * error answer (no stream framing, no trailer); after, the stream just stops reading.
   */
  private void refused(Status s) {
    if (!route.clientStreaming() || accepted == 0) {
      if (call != null) {
        call.cancel("the gateway refused the request", null);
      }
      respondPlainError(s);
    } else {
      inputStopped = true;
      bodyEnded = true;
      flush();
    }
  }

  @Override
  public void end() {
    if (finished || bodyEnded) {
      return;
    }
    bodyEnded = true;
    if (route.clientStreaming() || accepted == 0) {
      try {
        byte[] last = decoder.end();
        if (last != null) {
          accept(last);
          if (finished || inputStopped) {
            return;
          }
        }
      } catch (GoJsonException e) {
        badInput(e.getMessage());
        return;
      }
    }
    if (!route.clientStreaming() && accepted == 0) {
      // An empty body is the default request, as grpc-gateway reads io.EOF.
      accepted++;
      pending.add(route.requestPrototype());
    }
    flush();
  }

  /**
   * Hands the parsed messages to the call while it can take them (gRPC's readiness), half-closes
   * it once the body ended and everything went, and reads the body on only while the call keeps up.
   */
  private void flush() {
    if (started && call != null && !finished) {
      while (!pending.isEmpty() && call.isReady()) {
        call.sendMessage(pending.poll());
      }
      if (pending.isEmpty() && bodyEnded && !halfClosed && route.endsWithRequests()) {
        halfClosed = true;
        call.halfClose();
      }
    }
    readBodyOnlyIfTaken();
  }

  /**
   * Back-pressure on the request body: the connection reads on only while the call has started,
   * has taken every message parsed so far and can take more, so what waits here is at most what
   * one read of the socket holds (a client streaming requests faster than the service takes them,
   * or while the call waits for a slot, is pushed back by TCP). Once the body ended or the exchange
   * finished, the connection reads on (the rest of a refused body is discarded, then the next
   * request).
   */
  private void readBodyOnlyIfTaken() {
    boolean read = bodyEnded || finished || cancelled
        || (started && call != null && pending.isEmpty() && call.isReady());
    if (ctx.channel().config().isAutoRead() != read) {
      ctx.channel().config().setAutoRead(read);
    }
  }

  @Override
  public void cancel() {
    cancelled = true;
    if (call != null) {
      call.cancel("the HTTP client went away", null);
    } else if (!started && streams.withdraw(start)) {
      started = true;
    }
  }

  @Override
  public boolean done() {
    return done;
  }

  private void release() {
    if (!released) {
      released = true;
      streams.release();
    }
  }

  /** Answers with {@code s} before the call produced anything, and ends it. */
  private void fail(Status s) {
    if (call != null) {
      call.cancel("the gateway refused the request", null);
    }
    respondError(s);
  }

  private void respondError(Status s) {
    if (finished) {
      return;
    }
    if (route.method().getType().serverSendsOneMessage()) {
      respondPlainError(s);
      return;
    }
    finished = true;
    readBodyOnlyIfTaken();
    if (!headersSent) {
      sendStreamHeaders(JsonMessages.httpStatus(s.getCode()));
    }
    ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(JsonMessages.streamError(s))));
    endStream();
  }

  /** grpc-gateway's {@code HTTPError}: {@code {"error","message","code"}} with the code's HTTP status. */
  private void respondPlainError(Status s) {
    if (finished) {
      return;
    }
    finished = true;
    readBodyOnlyIfTaken();
    FullHttpResponse r = Responses.full(JsonMessages.httpStatus(s.getCode()), Responses.JSON,
        JsonMessages.errorBody(s));
    HttpSite.cors(r, corsOrigin);
    done = true;
    Responses.send(ctx, r, keepAlive);
  }

  /**
   * A unary call's error as grpc-gateway writes one the member answered: the body chunked, then
   * the call's trailer as an HTTP trailer ({@code Grpc-Trailer-Content-Type}).
   */
  private void answerWithTrailer(Status s) {
    finished = true;
    readBodyOnlyIfTaken();
    done = true;
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(JsonMessages.httpStatus(s.getCode())));
    r.headers().set(Responses.CONTENT_TYPE, Responses.JSON);
    r.headers().set("Trailer", TRAILER);
    r.headers().set("Transfer-Encoding", HttpHeaderValues.CHUNKED);
    if (corsOrigin != null) {
      HttpSite.corsHeaders(r.headers(), corsOrigin);
    }
    ctx.write(r);
    ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(JsonMessages.errorBody(s))));
    LastHttpContent last = new DefaultLastHttpContent();
    last.trailingHeaders().set(TRAILER, "application/grpc");
    ChannelFuture f = ctx.writeAndFlush(last);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void sendStreamHeaders(int status) {
    headersSent = true;
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
    r.headers().set(Responses.CONTENT_TYPE, Responses.JSON);
    r.headers().set("Transfer-Encoding", HttpHeaderValues.CHUNKED);
    if (status == 200) {
      r.headers().set("Grpc-Metadata-Content-Type", "application/grpc");
    }
    if (corsOrigin != null) {
      HttpSite.corsHeaders(r.headers(), corsOrigin);
    }
    ctx.write(r);
  }

  private void endStream() {
    done = true;
    ChannelFuture f = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    if (!keepAlive) {
      f.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void onMessage(String json) {
    if (finished || cancelled) {
      return;
    }
    if (route.method().getType().serverSendsOneMessage()) {
      unaryAnswer = json;
      return;
    }
    if (!headersSent) {
      sendStreamHeaders(200);
    }
    ByteBuf chunk = Unpooled.copiedBuffer("{\"result\":" + json + "}\n", StandardCharsets.UTF_8);
    ctx.writeAndFlush(new DefaultHttpContent(chunk)).addListener(f -> {
      if (f.isSuccess() && !finished && call != null) {
        call.request(1);
      }
    });
  }

  private void onClose(Status status) {
    release();
    if (finished || cancelled) {
      return;
    }
    if (!status.isOk()) {
      if (route.method().getType().serverSendsOneMessage()) {
        answerWithTrailer(status);
      } else {
        respondError(status);
      }
      return;
    }
    finished = true;
    readBodyOnlyIfTaken();
    if (route.method().getType().serverSendsOneMessage()) {
      String body = unaryAnswer == null ? "{}" : unaryAnswer;
      FullHttpResponse r = Responses.full(200, Responses.JSON, body.getBytes(StandardCharsets.UTF_8));
      r.headers().set("Grpc-Metadata-Content-Type", "application/grpc");
      HttpSite.cors(r, corsOrigin);
      done = true;
      Responses.send(ctx, r, keepAlive);
      return;
    }
    if (!headersSent) {
      sendStreamHeaders(200);
    }
    endStream();
  }

  /** The call's callbacks, on whatever thread the service answered: each hops to the event loop. */
  private final class Listener extends ClientCall.Listener<Message> {
    @Override
    public void onMessage(Message message) {
      String json = JsonMessages.print(message);
      ctx.executor().execute(() -> GatewayExchange.this.onMessage(json));
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      ctx.executor().execute(() -> GatewayExchange.this.onClose(status));
    }

    @Override
    public void onReady() {
      ctx.executor().execute(GatewayExchange.this::flush);
    }
  }
}
