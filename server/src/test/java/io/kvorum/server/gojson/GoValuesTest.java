package io.kvorum.server.gojson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Go's {@code json.Unmarshal} into jsonpb's targets: texts as etcd 3.4.23 answered them. */
class GoValuesTest {
  private static byte[] raw(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void object_keysUnquoted_laterDuplicateWins_nullIsNone() throws Exception {
    assertThat(GoValues.object(raw("{\"a\":1, \"b\" : {\"c\":[1,2]},\"a\":\"x\"}")))
        .containsOnlyKeys("a", "b");
    assertThat(new String(GoValues.object(raw("{\"a\":1,\"a\":\"x\"}")).get("a"), StandardCharsets.UTF_8))
        .isEqualTo("\"x\"");
    assertThat(GoValues.object(raw("{\"\\u0061\":1}"))).containsOnlyKeys("a");
    assertThat(GoValues.object(raw("null"))).isNull();
    assertThatThrownBy(() -> GoValues.object(raw("[1]")))
        .hasMessage("json: cannot unmarshal array into Go value of type map[string]json.RawMessage");
    assertThatThrownBy(() -> GoValues.object(raw("1")))
        .hasMessage("json: cannot unmarshal number into Go value of type map[string]json.RawMessage");
  }

  @Test
  void integers_asGoParsesThem() throws Exception {
    assertThat(GoValues.integer(raw(" 12 "), 64, false, "int64")).isEqualTo(12L);
    assertThat(GoValues.integer(raw("18446744073709551615"), 64, true, "uint64")).isEqualTo(-1L);
    assertThat(GoValues.integer(raw("null"), 64, false, "int64")).isNull();
    assertThatThrownBy(() -> GoValues.integer(raw("x"), 64, false, "int64"))
        .hasMessage("invalid character 'x' looking for beginning of value");
    assertThatThrownBy(() -> GoValues.integer(raw(""), 64, false, "int64"))
        .hasMessage("unexpected end of JSON input");
    assertThatThrownBy(() -> GoValues.integer(raw("1 2"), 64, false, "int64"))
        .hasMessage("invalid character '2' after top-level value");
    assertThatThrownBy(() -> GoValues.integer(raw("1.5"), 64, false, "int64"))
        .hasMessage("json: cannot unmarshal number 1.5 into Go value of type int64");
    assertThatThrownBy(() -> GoValues.integer(raw("99999999999999999999"), 64, false, "int64"))
        .hasMessage("json: cannot unmarshal number 99999999999999999999 into Go value of type int64");
    assertThatThrownBy(() -> GoValues.integer(raw("-1"), 64, true, "uint64"))
        .hasMessage("json: cannot unmarshal number -1 into Go value of type uint64");
    assertThatThrownBy(() -> GoValues.integer(raw("3000000000"), 32, false, "etcdserverpb.RangeRequest_SortOrder"))
        .hasMessage("json: cannot unmarshal number 3000000000 into Go value of type etcdserverpb.RangeRequest_SortOrder");
    assertThatThrownBy(() -> GoValues.integer(raw("true"), 64, false, "int64"))
        .hasMessage("json: cannot unmarshal bool into Go value of type int64");
  }

  @Test
  void bytes_base64AsGoDecodesIt_orAnArrayOfBytes() throws Exception {
    assertThat(GoValues.bytes(raw("\"YWI=\""))).containsExactly('a', 'b');
    assertThat(GoValues.bytes(raw("\"Y\\nWI=\""))).containsExactly('a', 'b');
    assertThat(GoValues.bytes(raw("\"\""))).isEmpty();
    assertThat(GoValues.bytes(raw("[97,98]"))).containsExactly('a', 'b');
    assertThat(GoValues.bytes(raw("null"))).isNull();
    assertThatThrownBy(() -> GoValues.bytes(raw("\"!!\""))).hasMessage("illegal base64 data at input byte 0");
    assertThatThrownBy(() -> GoValues.bytes(raw("\"YQ\""))).hasMessage("illegal base64 data at input byte 0");
    assertThatThrownBy(() -> GoValues.bytes(raw("\"YQ=\""))).hasMessage("illegal base64 data at input byte 3");
    assertThatThrownBy(() -> GoValues.bytes(raw("\"YQ==YQ==\""))).hasMessage("illegal base64 data at input byte 4");
    assertThatThrownBy(() -> GoValues.bytes(raw("\"YWJj-A==\""))).hasMessage("illegal base64 data at input byte 4");
    assertThatThrownBy(() -> GoValues.bytes(raw("1")))
        .hasMessage("json: cannot unmarshal number into Go value of type []uint8");
    assertThatThrownBy(() -> GoValues.bytes(raw("[256]")))
        .hasMessage("json: cannot unmarshal number 256 into Go value of type uint8");
    assertThatThrownBy(() -> GoValues.bytes(raw("{}")))
        .hasMessage("json: cannot unmarshal object into Go value of type []uint8");
  }

  @Test
  void strings_unquotedAsGoDoes() throws Exception {
    assertThat(GoValues.string(raw("\"a\\u00e9\\ud83d\\ude00\""))).isEqualTo("a\u00e9\ud83d\ude00");
    // A lone surrogate and an invalid UTF-8 byte each become U+FFFD.
    assertThat(GoValues.string(raw("\"\\ud800x\""))).isEqualTo("\ufffdx");
    assertThat(GoValues.string(new byte[] {'"', (byte) 0xff, '"'})).isEqualTo("\ufffd");
    assertThatThrownBy(() -> GoValues.string(raw("5")))
        .hasMessage("json: cannot unmarshal number into Go value of type string");
    assertThatThrownBy(() -> GoValues.bool(raw("\"true\"")))
        .hasMessage("json: cannot unmarshal string into Go value of type bool");
  }
}
