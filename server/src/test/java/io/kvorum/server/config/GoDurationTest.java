package io.kvorum.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GoDurationTest {
  @Test
  void parse_isGos() {
    assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
    assertThat(GoDuration.parse("-0")).isEqualTo(Duration.ZERO);
    assertThat(GoDuration.parse(".5s")).isEqualTo(Duration.ofMillis(500));
    assertThat(GoDuration.parse("1.s")).isEqualTo(Duration.ofSeconds(1));
    assertThat(GoDuration.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(GoDuration.parse("-1.5h")).isEqualTo(Duration.ofMinutes(-90));
    assertThat(GoDuration.parse("1h2m3s4ms5us6ns")).isEqualTo(Duration.ofNanos(3_723_004_005_006L));
    assertThat(GoDuration.parse("7\u00b5s")).isEqualTo(Duration.ofNanos(7_000));
    assertThat(GoDuration.parse("7\u03bcs")).isEqualTo(Duration.ofNanos(7_000));
    assertThat(GoDuration.parse("0.000000001s")).isEqualTo(Duration.ofNanos(1));
    assertThat(GoDuration.parse("9223372036854775807ns")).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
    assertThat(GoDuration.parse("-9223372036854775808ns")).isEqualTo(Duration.ofNanos(Long.MIN_VALUE));
    assertThat(GoDuration.parse("2562047h47m16.854775807s")).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
    assertThatThrownBy(() -> GoDuration.parse("5")).hasMessage("time: missing unit in duration \"5\"");
    assertThatThrownBy(() -> GoDuration.parse("1d")).hasMessage("time: unknown unit \"d\" in duration \"1d\"");
    assertThatThrownBy(() -> GoDuration.parse("")).hasMessage("time: invalid duration \"\"");
    assertThatThrownBy(() -> GoDuration.parse("9223372036854775808ns"))
        .hasMessage("time: invalid duration \"9223372036854775808ns\"");
  }
}
