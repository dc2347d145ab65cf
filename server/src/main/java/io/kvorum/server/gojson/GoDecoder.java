package io.kvorum.server.gojson;

import java.util.Arrays;

/**
 * Go's {@code json.Decoder} reading a stream of JSON values, fed one byte at a time as the bytes
 * arrive: each value is handed out as its raw bytes once complete; whitespace between values is
 * skipped; bad syntax fails with the scanner's text, and input ending inside a value with
 * {@code unexpected EOF}. As in Go, a value is over as soon as it can be (an object at its
 * closing brace), so what follows it is not read until the next value is asked for, and a byte
 * after a top-level literal or number starts the next value.
 *
 * <p>Once it has failed the decoder stays failed, as Go's does.
 */
public final class GoDecoder {
  private final long valueBytesMax;
  private final GoScanner scanner = new GoScanner();
  private byte[] value = new byte[256];
  private int size;
  private String failure;

  /** @param valueBytesMax the bound on one value's bytes; past it the decoder fails */
  public GoDecoder(long valueBytesMax) {
    this.valueBytesMax = valueBytesMax;
  }

  /**
   * Reads one byte; returns the value it completed (an object or array closed by it, or a literal,
   * number or string that the byte ended), else null. A byte that ends a value and is itself bad
   * input is reported by the next call.
   */
  public byte[] write(byte b) throws GoJsonException {
    if (failure != null) {
      throw new GoJsonException(failure);
    }
    int c = b & 0xff;
    int r = scanner.step(c);
    switch (r) {
      case GoScanner.SKIP_SPACE:
        if (size > 0) {
          append(b);
        }
        return null;
      case GoScanner.CONTINUE:
        append(b);
        return null;
      case GoScanner.END_BRACKET:
        append(b);
        if (scanner.depth() == 0) {
          return complete();
        }
        return null;
      case GoScanner.END: {
        byte[] done = complete();
        // The byte is not part of the value it ended: it begins the next one (or is whitespace).
        int next = scanner.step(c);
        if (next == GoScanner.ERROR) {
          failure = scanner.error();
        } else if (next != GoScanner.SKIP_SPACE) {
          append(b);
        }
        return done;
      }
      default:
        failure = scanner.error();
        throw new GoJsonException(failure);
    }
  }

  /**
   * The input ended: returns the value that the end completes (a top-level number), or null if
   * nothing but whitespace was pending; fails with {@code unexpected EOF} inside a value.
   */
  public byte[] end() throws GoJsonException {
    if (failure != null) {
      throw new GoJsonException(failure);
    }
    if (size == 0) {
      return null;
    }
    if (scanner.step(' ') == GoScanner.END) {
      return complete();
    }
    failure = "unexpected EOF";
    throw new GoJsonException(failure);
  }

  private void append(byte b) throws GoJsonException {
    if (size == value.length) {
      value = Arrays.copyOf(value, 2 * size);
    }
    value[size++] = b;
    if (size > valueBytesMax) {
      failure = "message too large";
      throw new GoJsonException(failure);
    }
  }

  private byte[] complete() {
    byte[] done = Arrays.copyOf(value, size);
    size = 0;
    scanner.reset();
    return done;
  }
}
