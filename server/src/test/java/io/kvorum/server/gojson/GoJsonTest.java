package io.kvorum.server.gojson;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Strings as Go's encoding/json writes them (json.Marshal of a Go string, checked against Go 1.19). */
class GoJsonTest {
  @Test
  void quote_escapesAsGoDoes() {
    assertThat(GoJson.quote("plain")).isEqualTo("\"plain\"");
    assertThat(GoJson.quote("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
    assertThat(GoJson.quote("\n\r\t\u0001")).isEqualTo("\"\\n\\r\\t\\u0001\"");
    assertThat(GoJson.quote("<a&b>")).isEqualTo("\"\\u003ca\\u0026b\\u003e\"");
    assertThat(GoJson.quote("\u2028\u2029")).isEqualTo("\"\\u2028\\u2029\"");
    assertThat(GoJson.quote("it's a=b é")).isEqualTo("\"it's a=b é\"");
  }
}
