package io.kvorum.server.gojson;

import java.util.Arrays;

/**
 * Go's {@code encoding/json} syntax scanner: a state machine stepped one byte at a time that says
 * where a value begins and ends and, on bad input, fails with Go's own words ("invalid character
 * 'x' looking for beginning of value", "… after object key:value pair", …). The gateway's clients
 * see those words, so the states, the order they are checked in and the texts follow Go's scanner
 * (documented behaviour of {@code encoding/json} as of Go 1.19), not a JSON grammar of our own.
 *
 * <p>{@link #step} answers what the byte did. A value that ends with a closing bracket ends on
 * that byte; a top-level literal, number or string ends one byte late ({@link #END}: the byte
 * after it, which is not part of it). Nesting is bounded as in Go ({@link #DEPTH_MAX}).
 */
public final class GoScanner {
  /** The byte continues the value. */
  public static final int CONTINUE = 0;
  /** The byte is whitespace outside any value. */
  public static final int SKIP_SPACE = 1;
  /** The byte closed an object or array (the value ends here if nothing encloses it). */
  public static final int END_BRACKET = 2;
  /** The top-level value ended just before this byte. */
  public static final int END = 3;
  /** The byte is a syntax error: {@link #error()} says which. */
  public static final int ERROR = 4;

  /** Go's {@code maxNestingDepth}. */
  public static final int DEPTH_MAX = 10_000;

  private static final int PARSE_OBJECT_KEY = 0;
  private static final int PARSE_OBJECT_VALUE = 1;
  private static final int PARSE_ARRAY_VALUE = 2;

  private enum State {
    BEGIN_VALUE, BEGIN_VALUE_OR_EMPTY, BEGIN_STRING, BEGIN_STRING_OR_EMPTY, END_VALUE, END_TOP,
    IN_STRING, IN_STRING_ESC, IN_STRING_ESC_U, IN_STRING_ESC_U1, IN_STRING_ESC_U12, IN_STRING_ESC_U123,
    NEG, ONE, ZERO, DOT, DOT0, E, E_SIGN, E0,
    T, TR, TRU, F, FA, FAL, FALS, N, NU, NUL, ERROR
  }

  private State state = State.BEGIN_VALUE;
  private int[] parse = new int[16];
  private int depth;
  private boolean endTop;
  private String error;

  /** Starts over for a new top-level value. */
  public void reset() {
    state = State.BEGIN_VALUE;
    depth = 0;
    endTop = false;
    error = null;
  }

  /** The syntax error, once {@link #step} or {@link #eof} reported one. */
  public String error() {
    return error;
  }

  /** Nesting depth of the value being scanned. */
  public int depth() {
    return depth;
  }

  /** Go's {@code scanner.eof}: whether the input may end here; sets {@link #error()} if not. */
  public boolean eof() {
    if (error != null) {
      return false;
    }
    if (endTop) {
      return true;
    }
    step(' ');
    if (endTop) {
      return true;
    }
    if (error == null) {
      error = "unexpected end of JSON input";
    }
    return false;
  }

  /** Scans one byte ({@code c} in 0..255). */
  public int step(int c) {
    switch (state) {
      case BEGIN_VALUE:
        return beginValue(c);
      case BEGIN_VALUE_OR_EMPTY:
        if (isSpace(c)) {
          return SKIP_SPACE;
        }
        return c == ']' ? endValue(c) : beginValue(c);
      case BEGIN_STRING_OR_EMPTY:
        if (isSpace(c)) {
          return SKIP_SPACE;
        }
        if (c == '}') {
          parse[depth - 1] = PARSE_OBJECT_VALUE;
          return endValue(c);
        }
        return beginString(c);
      case BEGIN_STRING:
        return beginString(c);
      case END_VALUE:
        return endValue(c);
      case END_TOP:
        return endTop(c);
      case IN_STRING:
        if (c == '"') {
          state = State.END_VALUE;
          return CONTINUE;
        }
        if (c == '\\') {
          state = State.IN_STRING_ESC;
          return CONTINUE;
        }
        if (c < 0x20) {
          return fail(c, "in string literal");
        }
        return CONTINUE;
      case IN_STRING_ESC:
        switch (c) {
          case 'b', 'f', 'n', 'r', 't', '\\', '/', '"' -> {
            state = State.IN_STRING;
            return CONTINUE;
          }
          case 'u' -> {
            state = State.IN_STRING_ESC_U;
            return CONTINUE;
          }
          default -> {
            return fail(c, "in string escape code");
          }
        }
      case IN_STRING_ESC_U:
        return hex(c, State.IN_STRING_ESC_U1);
      case IN_STRING_ESC_U1:
        return hex(c, State.IN_STRING_ESC_U12);
      case IN_STRING_ESC_U12:
        return hex(c, State.IN_STRING_ESC_U123);
      case IN_STRING_ESC_U123:
        return hex(c, State.IN_STRING);
      case NEG:
        if (c == '0') {
          state = State.ZERO;
          return CONTINUE;
        }
        if ('1' <= c && c <= '9') {
          state = State.ONE;
          return CONTINUE;
        }
        return fail(c, "in numeric literal");
      case ONE:
        if ('0' <= c && c <= '9') {
          return CONTINUE;
        }
        return zero(c);
      case ZERO:
        return zero(c);
      case DOT:
        if ('0' <= c && c <= '9') {
          state = State.DOT0;
          return CONTINUE;
        }
        return fail(c, "after decimal point in numeric literal");
      case DOT0:
        if ('0' <= c && c <= '9') {
          return CONTINUE;
        }
        if (c == 'e' || c == 'E') {
          state = State.E;
          return CONTINUE;
        }
        return endValue(c);
      case E:
        if (c == '+' || c == '-') {
          state = State.E_SIGN;
          return CONTINUE;
        }
        return eSign(c);
      case E_SIGN:
        return eSign(c);
      case E0:
        if ('0' <= c && c <= '9') {
          return CONTINUE;
        }
        return endValue(c);
      case T:
        return literal(c, 'r', State.TR, "in literal true (expecting 'r')");
      case TR:
        return literal(c, 'u', State.TRU, "in literal true (expecting 'u')");
      case TRU:
        return literal(c, 'e', State.END_VALUE, "in literal true (expecting 'e')");
      case F:
        return literal(c, 'a', State.FA, "in literal false (expecting 'a')");
      case FA:
        return literal(c, 'l', State.FAL, "in literal false (expecting 'l')");
      case FAL:
        return literal(c, 's', State.FALS, "in literal false (expecting 's')");
      case FALS:
        return literal(c, 'e', State.END_VALUE, "in literal false (expecting 'e')");
      case N:
        return literal(c, 'u', State.NU, "in literal null (expecting 'u')");
      case NU:
        return literal(c, 'l', State.NUL, "in literal null (expecting 'l')");
      case NUL:
        return literal(c, 'l', State.END_VALUE, "in literal null (expecting 'l')");
      case ERROR:
      default:
        return ERROR;
    }
  }

  private int beginValue(int c) {
    if (isSpace(c)) {
      return SKIP_SPACE;
    }
    switch (c) {
      case '{':
        state = State.BEGIN_STRING_OR_EMPTY;
        return push(c, PARSE_OBJECT_KEY);
      case '[':
        state = State.BEGIN_VALUE_OR_EMPTY;
        return push(c, PARSE_ARRAY_VALUE);
      case '"':
        state = State.IN_STRING;
        return CONTINUE;
      case '-':
        state = State.NEG;
        return CONTINUE;
      case '0':
        state = State.ZERO;
        return CONTINUE;
      case 't':
        state = State.T;
        return CONTINUE;
      case 'f':
        state = State.F;
        return CONTINUE;
      case 'n':
        state = State.N;
        return CONTINUE;
      default:
        if ('1' <= c && c <= '9') {
          state = State.ONE;
          return CONTINUE;
        }
        return fail(c, "looking for beginning of value");
    }
  }

  private int beginString(int c) {
    if (isSpace(c)) {
      return SKIP_SPACE;
    }
    if (c == '"') {
      state = State.IN_STRING;
      return CONTINUE;
    }
    return fail(c, "looking for beginning of object key string");
  }

  private int endValue(int c) {
    if (depth == 0) {
      state = State.END_TOP;
      endTop = true;
      return endTop(c);
    }
    if (isSpace(c)) {
      state = State.END_VALUE;
      return SKIP_SPACE;
    }
    switch (parse[depth - 1]) {
      case PARSE_OBJECT_KEY:
        if (c == ':') {
          parse[depth - 1] = PARSE_OBJECT_VALUE;
          state = State.BEGIN_VALUE;
          return CONTINUE;
        }
        return fail(c, "after object key");
      case PARSE_OBJECT_VALUE:
        if (c == ',') {
          parse[depth - 1] = PARSE_OBJECT_KEY;
          state = State.BEGIN_STRING;
          return CONTINUE;
        }
        if (c == '}') {
          pop();
          return END_BRACKET;
        }
        return fail(c, "after object key:value pair");
      default:
        if (c == ',') {
          state = State.BEGIN_VALUE;
          return CONTINUE;
        }
        if (c == ']') {
          pop();
          return END_BRACKET;
        }
        return fail(c, "after array element");
    }
  }

  /**
   * After a top-level value: whitespace, or anything else (Go records the error but still says the
   * value ended, so a stream decoder reads the byte as the start of the next value).
   */
  private int endTop(int c) {
    if (!isSpace(c)) {
      fail(c, "after top-level value");
    }
    return END;
  }

  private int zero(int c) {
    if (c == '.') {
      state = State.DOT;
      return CONTINUE;
    }
    if (c == 'e' || c == 'E') {
      state = State.E;
      return CONTINUE;
    }
    return endValue(c);
  }

  private int eSign(int c) {
    if ('0' <= c && c <= '9') {
      state = State.E0;
      return CONTINUE;
    }
    return fail(c, "in exponent of numeric literal");
  }

  private int hex(int c, State next) {
    if (('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')) {
      state = next;
      return CONTINUE;
    }
    return fail(c, "in \\u hexadecimal character escape");
  }

  private int literal(int c, int expected, State next, String context) {
    if (c == expected) {
      state = next;
      return CONTINUE;
    }
    return fail(c, context);
  }

  private int push(int c, int kind) {
    if (depth == parse.length) {
      parse = Arrays.copyOf(parse, depth * 2);
    }
    parse[depth++] = kind;
    if (depth <= DEPTH_MAX) {
      return CONTINUE;
    }
    return fail(c, "exceeded max depth");
  }

  private void pop() {
    depth--;
    if (depth == 0) {
      state = State.END_TOP;
      endTop = true;
    } else {
      state = State.END_VALUE;
    }
  }

  private int fail(int c, String context) {
    state = State.ERROR;
    error = "invalid character " + GoStrconv.quoteChar(c) + " " + context;
    return ERROR;
  }

  static boolean isSpace(int c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }
}
