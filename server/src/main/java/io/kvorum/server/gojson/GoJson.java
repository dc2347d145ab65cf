package io.kvorum.server.gojson;

import java.util.Locale;

/** Go's {@code encoding/json} encoding of a string. */
public final class GoJson {
  private GoJson() {}

  /**
   * Appends {@code s} as a JSON string literal as Go's {@code encoding/json} writes it: quotes,
   * backslashes and control characters escaped, and {@code <}, {@code >}, {@code &}, U+2028 and
   * U+2029 as six-character escapes (HTML-safe); apostrophes and {@code =} stay as they are (gson
   * and protobuf's printer would escape those two as well).
   */
  public static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&' || ch == 0x2028 || ch == 0x2029) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.append('"');
  }

  /** {@link #quote(StringBuilder, String)} as a string of its own. */
  public static String quote(String s) {
    return quote(new StringBuilder(s.length() + 2), s).toString();
  }
}
