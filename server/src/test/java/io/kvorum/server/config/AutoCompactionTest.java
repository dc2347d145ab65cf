package io.kvorum.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** etcd 3.4's parsing of --auto-compaction-mode and --auto-compaction-retention. */
class AutoCompactionTest {
  @Test
  void parse_integer_isHoursInPeriodicMode_andRevisionsInRevisionMode() {
    assertThat(AutoCompaction.parse("periodic", "1")).isEqualTo(
        new AutoCompaction(AutoCompaction.Mode.PERIODIC, Duration.ofHours(1), 0));
    assertThat(AutoCompaction.parse("revision", "1000")).isEqualTo(
        new AutoCompaction(AutoCompaction.Mode.REVISION, Duration.ZERO, 1000));
  }

  @Test
  void parse_goDuration_isThePeriod_orItsNanosecondsAsRevisions() {
    assertThat(AutoCompaction.parse("periodic", "5m").period()).isEqualTo(Duration.ofMinutes(5));
    assertThat(AutoCompaction.parse("periodic", "1h30m").period()).isEqualTo(Duration.ofMinutes(90));
    assertThat(AutoCompaction.parse("revision", "1us").revisions()).isEqualTo(1000);
  }

  @Test
  void parse_zeroOrEmpty_isOff() {
    assertThat(AutoCompaction.parse("periodic", "0").enabled()).isFalse();
    assertThat(AutoCompaction.parse("periodic", "").enabled()).isFalse();
    assertThat(AutoCompaction.parse("revision", "0s").enabled()).isFalse();
    assertThat(AutoCompaction.parse("", "10").enabled()).isFalse();
  }

  @Test
  void parse_badValues_failWithEtcdsMessages() {
    assertThatThrownBy(() -> AutoCompaction.parse("hourly", "1")).isInstanceOf(ConfigException.class)
        .hasMessage("unknown auto-compaction-mode \"hourly\"");
    assertThatThrownBy(() -> AutoCompaction.parse("periodic", "1x")).isInstanceOf(ConfigException.class)
        .hasMessage("error parsing CompactionRetention: time: unknown unit \"x\" in duration \"1x\"");
    assertThatThrownBy(() -> AutoCompaction.parse("periodic", "-1")).isInstanceOf(ConfigException.class)
        .hasMessage("error parsing CompactionRetention: time: missing unit in duration \"-1\"");
    assertThatThrownBy(() -> AutoCompaction.parse("", "5m")).isInstanceOf(ConfigException.class)
        .hasMessage("unsupported compaction mode ");
  }

  @Test
  void parse_negativeDuration_isRefused() {
    assertThatThrownBy(() -> AutoCompaction.parse("periodic", "-5m")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("must not be negative");
  }
}
