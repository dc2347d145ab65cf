package io.kvorum.server.gojson;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Go's {@code strconv.Quote} as Go's error texts use it: {@code %q} of a byte string, and the
 * JSON scanner's {@code quoteChar} of one byte.
 */
public final class GoStrconv {
  private GoStrconv() {}

  /**
   * The JSON scanner's quoting of the byte it stopped at: {@code 'x'}, with {@code '\''} and
   * {@code '"'} as special cases and anything else as {@code strconv.Quote} writes the rune
   * U+00XX between single quotes.
   */
  public static String quoteChar(int c) {
    if (c == '\'') {
      return "'\\''";
    }
    if (c == '"') {
      return "'\"'";
    }
    StringBuilder sb = new StringBuilder("'");
    appendRune(sb, c);
    return sb.append('\'').toString();
  }

  /** {@code strconv.Quote} of {@code bytes} read as Go reads a string (invalid UTF-8 as {@code \xHH}). */
  public static String quote(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length + 2).append('"');
    int i = 0;
    while (i < bytes.length) {
      int b = bytes[i] & 0xff;
      if (b < 0x80) {
        appendRune(sb, b);
        i++;
        continue;
      }
      int n = Utf8.sequenceLength(bytes, i);
      if (n == 0) {
        sb.append(String.format(Locale.ROOT, "\\x%02x", b));
        i++;
        continue;
      }
      appendRune(sb, new String(bytes, i, n, StandardCharsets.UTF_8).codePointAt(0));
      i += n;
    }
    return sb.append('"').toString();
  }

  private static void appendRune(StringBuilder sb, int r) {
    if (r == '"' || r == '\\') {
      sb.append('\\').appendCodePoint(r);
      return;
    }
    if (isPrint(r)) {
      sb.appendCodePoint(r);
      return;
    }
    switch (r) {
      case 0x07 -> sb.append("\\a");
      case '\b' -> sb.append("\\b");
      case '\f' -> sb.append("\\f");
      case '\n' -> sb.append("\\n");
      case '\r' -> sb.append("\\r");
      case '\t' -> sb.append("\\t");
      case 0x0b -> sb.append("\\v");
      default -> {
        if (r < ' ' || r == 0x7f) {
          sb.append(String.format(Locale.ROOT, "\\x%02x", r));
        } else if (r < 0x10000) {
          sb.append(String.format(Locale.ROOT, "\\u%04x", r));
        } else {
          sb.append(String.format(Locale.ROOT, "\\U%08x", r));
        }
      }
    }
  }

  /**
   * Go's {@code strconv.IsPrint}: letters, marks, numbers, punctuation, symbols and the ASCII
   * space (Java's Unicode tables stand in for Go's; they agree for the Latin-1 range the scanner
   * quotes).
   */
  static boolean isPrint(int r) {
    if (r == ' ') {
      return true;
    }
    return switch (Character.getType(r)) {
      case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
          Character.UNASSIGNED, Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR,
          Character.PARAGRAPH_SEPARATOR -> false;
      default -> true;
    };
  }
}
