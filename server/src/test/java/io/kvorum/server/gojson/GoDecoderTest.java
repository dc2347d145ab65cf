package io.kvorum.server.gojson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decoder against Go's {@code json.Decoder}: the texts are the ones etcd 3.4.23's gateway
 * answered for the same bodies.
 */
class GoDecoderTest {
  /** The values {@code body} decodes to, then the error it ends with (or "EOF"). */
  private static List<String> decode(String body) {
    GoDecoder d = new GoDecoder(1 << 20);
    List<String> out = new ArrayList<>();
    try {
      for (byte b : body.getBytes(StandardCharsets.ISO_8859_1)) {
        byte[] v = d.write(b);
        if (v != null) {
          out.add(new String(v, StandardCharsets.ISO_8859_1));
        }
      }
      byte[] v = d.end();
      if (v != null) {
        out.add(new String(v, StandardCharsets.ISO_8859_1));
      }
      out.add("EOF");
    } catch (GoJsonException e) {
      out.add("error: " + e.getMessage());
    }
    return out;
  }

  @Test
  void values_oneAfterAnother_whitespaceBetweenSkipped() {
    assertThat(decode(" {\"a\":1}\n{ \"b\" : [1, 2] }  ")).containsExactly("{\"a\":1}", "{ \"b\" : [1, 2] }", "EOF");
    assertThat(decode("")).containsExactly("EOF");
    assertThat(decode("1 \"s\" true null")).containsExactly("1", "\"s\"", "true", "null", "EOF");
  }

  @Test
  void aByteAfterALiteral_startsTheNextValue() {
    // Go's scanner ends "1" at the 'x' and reads the 'x' as the next value's first byte.
    assertThat(decode("1x")).containsExactly("1", "error: invalid character 'x' looking for beginning of value");
    assertThat(decode("{\"a\":1}garbage")).containsExactly("{\"a\":1}",
        "error: invalid character 'g' looking for beginning of value");
  }

  @Test
  void syntaxErrors_inGosWords() {
    assertThat(decode("{{{}")).containsExactly("error: invalid character '{' looking for beginning of object key string");
    assertThat(decode("z{")).containsExactly("error: invalid character 'z' looking for beginning of value");
    assertThat(decode("{\"a\":1,}")).containsExactly(
        "error: invalid character '}' looking for beginning of object key string");
    assertThat(decode("{\"a\" 1}")).containsExactly("error: invalid character '1' after object key");
    assertThat(decode("{\"a\":1 \"b\"}")).containsExactly("error: invalid character '\"' after object key:value pair");
    assertThat(decode("[1 2]")).containsExactly("error: invalid character '2' after array element");
    assertThat(decode("{\"a\":\"\\q\"}")).containsExactly("error: invalid character 'q' in string escape code");
    assertThat(decode("{\"a\":\"\\u12g4\"}")).containsExactly(
        "error: invalid character 'g' in \\u hexadecimal character escape");
    assertThat(decode("{\"a\":\"\u0001\"}")).containsExactly("error: invalid character '\\x01' in string literal");
    assertThat(decode("{\"a\":tx}")).containsExactly("error: invalid character 'x' in literal true (expecting 'r')");
    assertThat(decode("{\"a\":-}")).containsExactly("error: invalid character '}' in numeric literal");
    assertThat(decode("{\"a\":1.}")).containsExactly(
        "error: invalid character '}' after decimal point in numeric literal");
    assertThat(decode("{\"a\":1e}")).containsExactly("error: invalid character '}' in exponent of numeric literal");
    assertThat(decode("{'a':1}")).containsExactly("error: invalid character '\\'' looking for beginning of object key string");
    assertThat(decode("\u00e9")).containsExactly("error: invalid character '\u00e9' looking for beginning of value");
    assertThat(decode("\u0080")).containsExactly("error: invalid character '\\u0080' looking for beginning of value");
  }

  @Test
  void endInsideAValue_isUnexpectedEof() {
    assertThat(decode("nul")).containsExactly("error: unexpected EOF");
    assertThat(decode("{\"key\":")).containsExactly("error: unexpected EOF");
    assertThat(decode("{\"a\":1} {")).containsExactly("{\"a\":1}", "error: unexpected EOF");
    // A number is complete at the end of the input.
    assertThat(decode("12")).containsExactly("12", "EOF");
  }

  @Test
  void nesting_boundedAsInGo() {
    String deep = "[".repeat(GoScanner.DEPTH_MAX + 1);
    assertThat(decode(deep)).containsExactly("error: invalid character '[' exceeded max depth");
    assertThat(decode("[".repeat(GoScanner.DEPTH_MAX) + "]".repeat(GoScanner.DEPTH_MAX))).hasSize(2);
  }

  @Test
  void aValueOverTheBound_refused_andTheDecoderStaysFailed() throws Exception {
    GoDecoder d = new GoDecoder(8);
    for (byte b : "{\"a\":\"".getBytes(StandardCharsets.US_ASCII)) {
      d.write(b);
    }
    d.write((byte) 'x');
    d.write((byte) 'x');
    assertThatThrownBy(() -> d.write((byte) 'x')).hasMessage("message too large");
    assertThatThrownBy(d::end).hasMessage("message too large");
  }
}
