package io.kvorum.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The quota, compaction and corruption-check settings as the member takes them. */
class ServerConfigQuotaTest {
  private static ServerConfig build(Consumer<ServerConfig.Builder> tune) {
    ServerConfig.Builder b = ServerConfig.builder();
    b.dataDir = Path.of("unused.etcd");
    tune.accept(b);
    return b.build();
  }

  @Test
  void quotaBackendBytes_zeroIsEtcdsDefault_negativeIsNone_otherwiseAsGiven() {
    assertThat(build(b -> { }).quotaBackendBytes).isEqualTo(ServerConfig.QUOTA_BACKEND_BYTES_DEFAULT)
        .isEqualTo(2L << 30);
    assertThat(build(b -> b.quotaBackendBytes = -1).quotaBackendBytes).isNegative();
    assertThat(build(b -> b.quotaBackendBytes = 53_248).quotaBackendBytes).isEqualTo(53_248);
  }

  @Test
  void compactionBatchLimit_zeroIsEtcdsDefault_negativeIsRefused() {
    assertThat(build(b -> b.compactionBatchLimit = 0).compactionBatchLimit).isEqualTo(1000);
    assertThat(build(b -> b.compactionBatchLimit = 7).compactionBatchLimit).isEqualTo(7);
    assertThatThrownBy(() -> build(b -> b.compactionBatchLimit = -1)).isInstanceOf(ConfigException.class)
        .hasMessage("--experimental-compaction-batch-limit must be >= 0 (set to -1)");
  }

  @Test
  void corruptCheckTime_negativeIsRefused() {
    assertThat(build(b -> b.corruptCheckTime = Duration.ofMinutes(1)).corruptCheckTime).hasMinutes(1);
    assertThatThrownBy(() -> build(b -> b.corruptCheckTime = Duration.ofSeconds(-1)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--experimental-corrupt-check-time must be >= 0");
  }

  @Test
  void autoCompaction_parsedFromBothFlags() {
    assertThat(build(b -> { }).autoCompaction.enabled()).isFalse();
    ServerConfig c = build(b -> {
      b.autoCompactionMode = "revision";
      b.autoCompactionRetention = "1000";
    });
    assertThat(c.autoCompaction).isEqualTo(new AutoCompaction(AutoCompaction.Mode.REVISION, Duration.ZERO, 1000));
    assertThatThrownBy(() -> build(b -> b.autoCompactionMode = "daily")).isInstanceOf(ConfigException.class)
        .hasMessage("unknown auto-compaction-mode \"daily\"");
  }
}
