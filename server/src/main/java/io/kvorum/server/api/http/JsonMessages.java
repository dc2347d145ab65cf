package io.kvorum.server.api.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.kvorum.server.gojson.GoJson;
import java.nio.charset.StandardCharsets;

/**
 * etcd's gateway JSON (grpc-gateway's {@code JSONPb{OrigName: true}}), through protobuf's own
 * proto3 JSON mapping: the {@code .proto} field names as keys, default values left out, 64-bit
 * integers as strings, bytes as base64, enums by name, one line. (Requests are read by
 * {@link JsonPbParser}.)
 */
final class JsonMessages {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

  private JsonMessages() {}

  static String print(MessageOrBuilder m) {
    try {
      return PRINTER.print(m);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail to print; etcd's messages have none.
      throw new IllegalStateException(e);
    }
  }

  /** grpc-gateway's error body for a call that failed: {@code {"error":…,"message":…,"code":N}}. */
  static byte[] errorBody(Status s) {
    String msg = s.getDescription() == null ? "" : s.getDescription();
    StringBuilder sb = new StringBuilder("{");
    if (!msg.isEmpty()) {
      sb.append("\"error\":").append(GoJson.quote(msg)).append(",\"message\":").append(GoJson.quote(msg));
    }
    if (s.getCode().value() != 0) {
      sb.append(sb.length() > 1 ? "," : "").append("\"code\":").append(s.getCode().value());
    }
    return sb.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** grpc-gateway's error chunk ending a stream. */
  static byte[] streamError(Status s) {
    int http = httpStatus(s.getCode());
    String msg = s.getDescription() == null ? "" : s.getDescription();
    StringBuilder sb = new StringBuilder("{\"error\":{");
    sb.append("\"grpc_code\":").append(s.getCode().value()).append(",\"http_code\":").append(http);
    if (!msg.isEmpty()) {
      sb.append(",\"message\":").append(GoJson.quote(msg));
    }
    sb.append(",\"http_status\":").append(GoJson.quote(statusText(http))).append("}}");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** grpc-gateway's {@code HTTPStatusFromCode}. */
  static int httpStatus(Status.Code code) {
    return switch (code) {
      case OK -> 200;
      case CANCELLED -> 408;
      case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
      case DEADLINE_EXCEEDED -> 504;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case FAILED_PRECONDITION -> 412;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE -> 503;
    };
  }

  /** Go's {@code http.StatusText} for the codes {@link #httpStatus} gives. */
  static String statusText(int http) {
    return switch (http) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 412 -> "Precondition Failed";
      case 429 -> "Too Many Requests";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "Internal Server Error";
    };
  }
}
