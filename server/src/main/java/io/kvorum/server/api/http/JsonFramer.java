package io.kvorum.server.api.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a request body into the JSON objects it carries one after another, as Go's
 * {@code json.Decoder} reads a streaming gateway call's body: each complete top-level object is
 * one message, whitespace between them is skipped. It only finds where objects end (outside
 * strings, braces and brackets balance); parsing them is the JSON mapping's job.
 */
final class JsonFramer {
  private final long maxBytes;
  /** The object being framed: its bytes so far (a plain array: every body byte passes through here). */
  private byte[] current = new byte[256];
  private int size;
  private int depth;
  private boolean inString;
  private boolean escaped;
  private boolean broken;

  JsonFramer(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Thrown when the body cannot be a sequence of objects, or one is larger than allowed. */
  static final class FramingException extends Exception {
    private static final long serialVersionUID = 1L;

    FramingException(String message) {
      super(message);
    }
  }

  /** The objects {@code chunk} completes, in order. */
  List<String> feed(ByteBuf chunk) throws FramingException {
    if (broken) {
      throw new FramingException("invalid request body");
    }
    List<String> out = new ArrayList<>();
    for (int i = chunk.readerIndex(); i < chunk.writerIndex(); i++) {
      byte b = chunk.getByte(i);
      if (depth == 0 && !inString) {
        if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
          continue;
        }
        if (b != '{') {
          broken = true;
          throw new FramingException("invalid character '" + (char) (b & 0xff)
              + "' looking for beginning of value");
        }
      }
      if (size == current.length) {
        current = Arrays.copyOf(current, 2 * size);
      }
      current[size++] = b;
      if (size > maxBytes) {
        broken = true;
        throw new FramingException("message too large");
      }
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
        continue;
      }
      if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        depth--;
        if (depth == 0) {
          out.add(new String(current, 0, size, StandardCharsets.UTF_8));
          size = 0;
        }
      }
    }
    return out;
  }

  /** True if the body ended inside an object. */
  boolean partial() {
    return size > 0;
  }
}
