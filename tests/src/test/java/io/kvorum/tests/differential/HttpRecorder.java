package io.kvorum.tests.differential;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The JSON gateway side of a {@link Recorder}: requests sent as etcd's JSON over HTTP/1.1 to a
 * member's client URL, recorded as notes (method, path, body), and answers recorded as the HTTP
 * status, the body's shape (every key, nesting and value kind, so field names, omitted defaults
 * and 64-bit integers as strings are compared) and the body itself — parsed into the response
 * message and normalised like a gRPC answer, or, for errors and non-JSON bodies, as text.
 */
final class HttpRecorder {
  static final Duration CALL = Duration.ofMillis(Recorder.CALL_DEADLINE_MS);

  private final Recorder c;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(CALL).build();
  /** The Authorization header sent from now on, or null. */
  private String authorization;

  HttpRecorder(Recorder c) {
    this.c = c;
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The scenario's key {@code name}, base64 as JSON carries bytes. */
  String key(String name) {
    return Base64.getEncoder().encodeToString(c.key(name).toByteArray());
  }

  void authorization(String token) {
    this.authorization = token;
  }

  private URI uri(int member, String path) {
    return URI.create("http://127.0.0.1:" + c.side.members.get(member).clientPort + path);
  }

  private HttpRequest.Builder request(int member, String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(member, path)).timeout(CALL)
        .header("Content-Type", "application/x-www-form-urlencoded");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
        : b.method(method, HttpRequest.BodyPublishers.ofString(body));
  }

  /** A POST of {@code body} to {@code path}; the answer parsed as {@code prototype}'s type, or null. */
  <R extends Message> R post(String path, String body, R prototype) {
    return send(0, "POST", path, body, prototype);
  }

  /** A request whose answer is recorded as text only. */
  void send(String method, String path, String body) {
    send(0, method, path, body, null);
  }

  /**
   * A body that is not etcd's JSON: the status, the content type and the whole answer are
   * compared (the gateway reads JSON as etcd's does and refuses it in Go's words).
   */
  void sendMalformed(String path, String body) {
    c.note("HTTP POST " + path + " " + body);
    try {
      HttpResponse<String> r = http.send(request(0, "POST", path, body).build(), HttpResponse.BodyHandlers.ofString());
      c.note("HTTP " + r.statusCode() + " " + r.headers().firstValue("Content-Type").orElse("(no content type)")
          + " trailer " + r.headers().firstValue("Trailer").orElse("(none)"));
      c.note("body: " + r.body());
    } catch (IOException e) {
      c.note("HTTP failed: " + e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  <R extends Message> R send(int member, String method, String path, String body, R prototype) {
    c.note("HTTP " + method + " " + path + (body == null ? "" : " " + body));
    HttpResponse<String> r;
    try {
      r = http.send(request(member, method, path, body).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      c.note("HTTP failed: " + e.getClass().getSimpleName());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    c.note("HTTP " + r.statusCode() + " " + r.headers().firstValue("Content-Type").orElse("(no content type)"));
    return answer(r.statusCode() == 200 ? prototype : null, r.body());
  }

  private <R extends Message> R answer(R prototype, String body) {
    String shape = shape(body);
    if (shape == null || prototype == null) {
      c.note("body: " + body);
      return null;
    }
    c.note("shape: " + shape);
    try {
      Message.Builder b = prototype.newBuilderForType();
      JsonFormat.parser().merge(body, b);
      @SuppressWarnings("unchecked")
      R m = (R) b.build();
      c.log.add(new Exchange(Exchange.Kind.RESPONSE, 0, "HTTP", m, null, null));
      return m;
    } catch (InvalidProtocolBufferException e) {
      c.note("body does not parse as " + prototype.getDescriptorForType().getName() + ": " + body);
      return null;
    }
  }

  /** A streaming call: lines are read, and recorded, only when the scenario asks. */
  Stream stream(String path, String body) {
    c.note("HTTP POST " + path + " (stream) " + body);
    CompletableFuture<HttpResponse<InputStream>> r =
        http.sendAsync(request(0, "POST", path, body).build(), HttpResponse.BodyHandlers.ofInputStream());
    return new Stream(r);
  }

  final class Stream implements AutoCloseable {
    private final CompletableFuture<HttpResponse<InputStream>> response;
    private BufferedReader lines;

    Stream(CompletableFuture<HttpResponse<InputStream>> response) {
      this.response = response;
    }

    /** Reads the next line (waiting up to a stream wait) and records it; null at the end. */
    <R extends Message> R next(R prototype) {
      try {
        if (lines == null) {
          HttpResponse<InputStream> r = response.get(Recorder.STREAM_WAIT_MS, TimeUnit.MILLISECONDS);
          c.note("HTTP " + r.statusCode() + " " + r.headers().firstValue("Content-Type").orElse("")
              + " " + r.headers().firstValue("Transfer-Encoding").orElse(""));
          lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        }
        String line = CompletableFuture.supplyAsync(() -> {
          try {
            return lines.readLine();
          } catch (IOException e) {
            return null;
          }
        }).get(Recorder.STREAM_WAIT_MS, TimeUnit.MILLISECONDS);
        if (line == null) {
          c.note("HTTP stream ended");
          return null;
        }
        if (line.startsWith("{\"result\":") && line.endsWith("}")) {
          c.note("stream line: result");
          return answer(prototype, line.substring("{\"result\":".length(), line.length() - 1));
        }
        c.note("stream line: " + line);
        return null;
      } catch (Exception e) {
        c.note("HTTP stream read failed: " + e.getClass().getSimpleName());
        return null;
      }
    }

    @Override
    public void close() {
      response.thenAccept(r -> {
        try {
          r.body().close();
        } catch (IOException e) {
          // The connection is going anyway.
        }
      });
      response.cancel(true);
    }
  }

  /** The body's JSON shape with sorted keys, or null if it is not a JSON object. */
  static String shape(String body) {
    Struct.Builder s = Struct.newBuilder();
    try {
      JsonFormat.parser().merge(body, s);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return null;
    }
    return shape(Value.newBuilder().setStructValue(s).build());
  }

  private static String shape(Value v) {
    return switch (v.getKindCase()) {
      case STRUCT_VALUE -> {
        StringBuilder sb = new StringBuilder("{");
        TreeMap<String, Value> sorted = new TreeMap<>(v.getStructValue().getFieldsMap());
        sorted.forEach((k, x) -> sb.append(sb.length() > 1 ? "," : "").append(k).append(':').append(shape(x)));
        yield sb.append('}').toString();
      }
      case LIST_VALUE -> {
        StringBuilder sb = new StringBuilder("[");
        ListValue l = v.getListValue();
        for (int i = 0; i < l.getValuesCount(); i++) {
          sb.append(i > 0 ? "," : "").append(shape(l.getValues(i)));
        }
        yield sb.append(']').toString();
      }
      case STRING_VALUE -> "s";
      case NUMBER_VALUE -> "n";
      case BOOL_VALUE -> "b";
      case NULL_VALUE -> "null";
      case KIND_NOT_SET -> "?";
    };
  }
}
