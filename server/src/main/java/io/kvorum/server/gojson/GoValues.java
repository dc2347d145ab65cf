package io.kvorum.server.gojson;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Go's {@code json.Unmarshal} of one JSON value into the Go types golang/protobuf's jsonpb
 * decodes etcd's requests through: {@code map[string]json.RawMessage} (a message),
 * {@code []json.RawMessage} (a repeated field), the integer and float kinds, {@code bool},
 * {@code string} and {@code []uint8} (bytes, base64). Each refuses what Go refuses with Go's text:
 * the syntax check of the whole input first ({@code unexpected end of JSON input}, {@code invalid
 * character … after top-level value}), then {@code json: cannot unmarshal X into Go value of type
 * T}, and for bytes {@code illegal base64 data at input byte N}. {@code null} leaves a target as it
 * was (the methods return null).
 */
public final class GoValues {
  /** Go's name of the Go type jsonpb reads a message's fields into. */
  public static final String MESSAGE_TYPE = "map[string]json.RawMessage";
  /** Go's name of the Go type jsonpb reads a repeated field into. */
  public static final String REPEATED_TYPE = "[]json.RawMessage";
  /** Go's name of a bytes field's type. */
  public static final String BYTES_TYPE = "[]uint8";

  private enum Kind { OBJECT, ARRAY, STRING, NUMBER, BOOL, NULL }

  private GoValues() {}

  /** A message's fields by key (a later duplicate key wins, as in a Go map), or null for {@code null}. */
  public static Map<String, byte[]> object(byte[] raw) throws GoJsonException {
    return object(raw, false);
  }

  /**
   * {@link #object(byte[])}; {@code validated} skips the syntax check for a value cut from input
   * already checked (Go checks again at every level, which costs time in proportion to depth).
   */
  public static Map<String, byte[]> object(byte[] raw, boolean validated) throws GoJsonException {
    int i = validated ? skipSpace(raw, 0) : checkValid(raw);
    Kind k = kind(raw, i);
    if (k == Kind.NULL) {
      return null;
    }
    if (k != Kind.OBJECT) {
      throw typeError(k, raw, i, MESSAGE_TYPE, false);
    }
    Map<String, byte[]> fields = new LinkedHashMap<>();
    i = skipSpace(raw, i + 1);
    if (raw[i] == '}') {
      return fields;
    }
    while (true) {
      int keyEnd = skipValue(raw, i);
      String key = new String(unquote(raw, i, keyEnd), StandardCharsets.UTF_8);
      i = skipSpace(raw, keyEnd) + 1; // the ':'
      i = skipSpace(raw, i);
      int valueEnd = skipValue(raw, i);
      byte[] value = new byte[valueEnd - i];
      System.arraycopy(raw, i, value, 0, value.length);
      fields.put(key, value);
      i = skipSpace(raw, valueEnd);
      if (raw[i] == '}') {
        return fields;
      }
      i = skipSpace(raw, i + 1); // past the ','
    }
  }

  /** A repeated field's elements, or null for {@code null}. */
  public static List<byte[]> array(byte[] raw) throws GoJsonException {
    return array(raw, false);
  }

  /** {@link #array(byte[])}, without the syntax check for input already checked. */
  public static List<byte[]> array(byte[] raw, boolean validated) throws GoJsonException {
    int i = validated ? skipSpace(raw, 0) : checkValid(raw);
    Kind k = kind(raw, i);
    if (k == Kind.NULL) {
      return null;
    }
    if (k != Kind.ARRAY) {
      throw typeError(k, raw, i, REPEATED_TYPE, false);
    }
    return elements(raw, i);
  }

  /**
   * An integer of {@code bits} bits (signed or not) into the Go type named {@code goType}, or null
   * for {@code null}.
   */
  public static Long integer(byte[] raw, int bits, boolean unsigned, String goType) throws GoJsonException {
    int i = checkValid(raw);
    Kind k = kind(raw, i);
    if (k == Kind.NULL) {
      return null;
    }
    if (k != Kind.NUMBER) {
      throw typeError(k, raw, i, goType, true);
    }
    String s = literal(raw, i);
    try {
      if (unsigned) {
        long v = Long.parseUnsignedLong(s);
        if (bits < 64 && Long.compareUnsigned(v, (1L << bits) - 1) > 0) {
          throw new NumberFormatException();
        }
        return v;
      }
      long v = Long.parseLong(s);
      if (bits < 64 && (v < -(1L << (bits - 1)) || v > (1L << (bits - 1)) - 1)) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw typeError(k, raw, i, goType, true);
    }
  }

  /** A {@code float64} (or {@code float32}), or null for {@code null}. */
  public static Double floating(byte[] raw, boolean single) throws GoJsonException {
    int i = checkValid(raw);
    Kind k = kind(raw, i);
    String goType = single ? "float32" : "float64";
    if (k == Kind.NULL) {
      return null;
    }
    if (k != Kind.NUMBER) {
      throw typeError(k, raw, i, goType, true);
    }
    double v = Double.parseDouble(literal(raw, i));
    if (Double.isInfinite(v) || (single && Float.isInfinite((float) v))) {
      throw typeError(k, raw, i, goType, true);
    }
    return v;
  }

  /** A {@code bool}, or null for {@code null}. */
  public static Boolean bool(byte[] raw) throws GoJsonException {
    int i = checkValid(raw);
    Kind k = kind(raw, i);
    if (k == Kind.NULL) {
      return null;
    }
    if (k != Kind.BOOL) {
      throw typeError(k, raw, i, "bool", false);
    }
    return raw[i] == 't';
  }

  /** A {@code string}, or null for {@code null}. */
  public static String string(byte[] raw) throws GoJsonException {
    int i = checkValid(raw);
    Kind k = kind(raw, i);
    if (k == Kind.NULL) {
      return null;
    }
    if (k != Kind.STRING) {
      throw typeError(k, raw, i, "string", false);
    }
    return new String(unquote(raw, i, skipValue(raw, i)), StandardCharsets.UTF_8);
  }

  /**
   * A {@code []uint8}: a string in standard base64 (padded; line breaks skipped), or an array of
   * numbers 0..255, as Go reads either; null for {@code null}.
   */
  public static byte[] bytes(byte[] raw) throws GoJsonException {
    int i = checkValid(raw);
    Kind k = kind(raw, i);
    switch (k) {
      case NULL:
        return null;
      case STRING:
        return base64(unquote(raw, i, skipValue(raw, i)));
      case ARRAY: {
        List<byte[]> elements = elements(raw, i);
        byte[] out = new byte[elements.size()];
        GoJsonException first = null;
        for (int e = 0; e < out.length; e++) {
          try {
            Long v = integer(elements.get(e), 8, true, "uint8");
            out[e] = v == null ? 0 : (byte) (long) v;
          } catch (GoJsonException ex) {
            first = first == null ? ex : first;
          }
        }
        if (first != null) {
          throw first;
        }
        return out;
      }
      default:
        throw typeError(k, raw, i, BYTES_TYPE, false);
    }
  }

  /**
   * Go's {@code checkValid}: the whole input must be one value (whitespace around it allowed).
   * Returns where the value starts.
   */
  public static int checkValid(byte[] raw) throws GoJsonException {
    GoScanner s = new GoScanner();
    for (byte b : raw) {
      if (s.step(b & 0xff) == GoScanner.ERROR) {
        throw new GoJsonException(s.error());
      }
    }
    if (!s.eof()) {
      throw new GoJsonException(s.error());
    }
    return skipSpace(raw, 0);
  }

  // ------------------------------------------------------------ reading validated input

  private static Kind kind(byte[] raw, int i) {
    return switch (raw[i]) {
      case '{' -> Kind.OBJECT;
      case '[' -> Kind.ARRAY;
      case '"' -> Kind.STRING;
      case 't', 'f' -> Kind.BOOL;
      case 'n' -> Kind.NULL;
      default -> Kind.NUMBER;
    };
  }

  private static List<byte[]> elements(byte[] raw, int i) {
    List<byte[]> out = new ArrayList<>();
    i = skipSpace(raw, i + 1);
    if (raw[i] == ']') {
      return out;
    }
    while (true) {
      int end = skipValue(raw, i);
      byte[] value = new byte[end - i];
      System.arraycopy(raw, i, value, 0, value.length);
      out.add(value);
      i = skipSpace(raw, end);
      if (raw[i] == ']') {
        return out;
      }
      i = skipSpace(raw, i + 1);
    }
  }

  private static int skipSpace(byte[] raw, int i) {
    while (i < raw.length && GoScanner.isSpace(raw[i])) {
      i++;
    }
    return i;
  }

  /** The end of the (valid) value starting at {@code i}. */
  private static int skipValue(byte[] raw, int i) {
    byte b = raw[i];
    if (b == '"') {
      i++;
      while (raw[i] != '"') {
        i += raw[i] == '\\' ? 2 : 1;
      }
      return i + 1;
    }
    if (b == '{' || b == '[') {
      int depth = 0;
      do {
        byte c = raw[i];
        if (c == '"') {
          i = skipValue(raw, i);
          continue;
        }
        if (c == '{' || c == '[') {
          depth++;
        } else if (c == '}' || c == ']') {
          depth--;
        }
        i++;
      } while (depth > 0);
      return i;
    }
    while (i < raw.length && !GoScanner.isSpace(raw[i]) && raw[i] != ',' && raw[i] != '}' && raw[i] != ']') {
      i++;
    }
    return i;
  }

  private static String literal(byte[] raw, int i) {
    return new String(raw, i, skipValue(raw, i) - i, StandardCharsets.US_ASCII);
  }

  private static GoJsonException typeError(Kind k, byte[] raw, int i, String goType, boolean numericTarget) {
    String value = switch (k) {
      case OBJECT -> "object";
      case ARRAY -> "array";
      case STRING -> "string";
      case BOOL -> "bool";
      case NULL -> "null";
      case NUMBER -> numericTarget ? "number " + literal(raw, i) : "number";
    };
    return new GoJsonException("json: cannot unmarshal " + value + " into Go value of type " + goType);
  }

  /**
   * Go's {@code unquoteBytes} of the string literal {@code raw[from, to)}: escapes resolved, a
   * surrogate pair joined, a lone surrogate and each invalid UTF-8 byte as U+FFFD; UTF-8 out.
   */
  static byte[] unquote(byte[] raw, int from, int to) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
    int r = from + 1;
    int end = to - 1;
    while (r < end) {
      int c = raw[r] & 0xff;
      if (c == '\\') {
        int e = raw[r + 1];
        switch (e) {
          case 'b' -> out.write('\b');
          case 'f' -> out.write('\f');
          case 'n' -> out.write('\n');
          case 'r' -> out.write('\r');
          case 't' -> out.write('\t');
          case 'u' -> {
            int rr = hex4(raw, r + 2);
            r += 6;
            if (rr >= 0xd800 && rr < 0xe000) {
              int rr1 = r + 6 <= end && raw[r] == '\\' && raw[r + 1] == 'u' ? hex4(raw, r + 2) : -1;
              if (rr < 0xdc00 && rr1 >= 0xdc00 && rr1 < 0xe000) {
                writeRune(out, 0x10000 + ((rr - 0xd800) << 10) + (rr1 - 0xdc00));
                r += 6;
                continue;
              }
              rr = 0xfffd;
            }
            writeRune(out, rr);
            continue;
          }
          default -> out.write(e); // '"', '\\', '/'
        }
        r += 2;
        continue;
      }
      if (c < 0x80) {
        out.write(c);
        r++;
        continue;
      }
      int n = Utf8.sequenceLength(raw, r);
      if (n == 0 || r + n > end) {
        writeRune(out, 0xfffd);
        r++;
      } else {
        out.write(raw, r, n);
        r += n;
      }
    }
    return out.toByteArray();
  }

  private static int hex4(byte[] raw, int i) {
    int v = 0;
    for (int k = 0; k < 4; k++) {
      int d = Character.digit(raw[i + k], 16);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  private static void writeRune(ByteArrayOutputStream out, int cp) {
    byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
    out.write(b, 0, b.length);
  }

  // ------------------------------------------------------------ base64 as Go decodes it

  private static final byte[] DECODE = new byte[256];

  static {
    Arrays.fill(DECODE, (byte) -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < alphabet.length(); i++) {
      DECODE[alphabet.charAt(i)] = (byte) i;
    }
  }

  /**
   * Go's {@code base64.StdEncoding.Decode}: quanta of four, {@code =} padding required, CR and LF
   * skipped anywhere; the first fault as {@code illegal base64 data at input byte N}.
   */
  static byte[] base64(byte[] src) throws GoJsonException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(src.length / 4 * 3);
    int si = 0;
    int[] dbuf = new int[4];
    while (si < src.length) {
      int dlen = 4;
      int j = 0;
      boolean trailing = false;
      int trailingAt = 0;
      quantum:
      for (; j < 4; j++) {
        if (si == src.length) {
          if (j == 0) {
            return out.toByteArray();
          }
          // Padding is required: input that ends mid-quantum is corrupt where the quantum began.
          throw corrupt(si - j);
        }
        int in = src[si] & 0xff;
        si++;
        int v = DECODE[in];
        if (v >= 0) {
          dbuf[j] = v;
          continue;
        }
        if (in == '\n' || in == '\r') {
          j--;
          continue;
        }
        if (in != '=') {
          throw corrupt(si - 1);
        }
        switch (j) {
          case 0, 1 -> throw corrupt(si - 1);
          case 2 -> {
            while (si < src.length && (src[si] == '\n' || src[si] == '\r')) {
              si++;
            }
            if (si == src.length) {
              throw corrupt(src.length);
            }
            if (src[si] != '=') {
              throw corrupt(si - 1);
            }
            si++;
          }
          default -> { }
        }
        while (si < src.length && (src[si] == '\n' || src[si] == '\r')) {
          si++;
        }
        if (si < src.length) {
          trailing = true;
          trailingAt = si;
        }
        dlen = j;
        break quantum;
      }
      int val = dbuf[0] << 18 | dbuf[1] << 12 | (dlen > 2 ? dbuf[2] : 0) << 6 | (dlen > 3 ? dbuf[3] : 0);
      if (trailing) {
        throw corrupt(trailingAt);
      }
      out.write((val >> 16) & 0xff);
      if (dlen > 2) {
        out.write((val >> 8) & 0xff);
      }
      if (dlen > 3) {
        out.write(val & 0xff);
      }
      if (dlen < 4) {
        return out.toByteArray();
      }
    }
    return out.toByteArray();
  }

  private static GoJsonException corrupt(int at) {
    return new GoJsonException("illegal base64 data at input byte " + at);
  }
}
