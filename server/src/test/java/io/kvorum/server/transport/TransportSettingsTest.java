package io.kvorum.server.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TransportSettingsTest {

  @Test
  void defaults_areEtcdLike() {
    TransportSettings s = TransportSettings.defaults();
    assertThat(s.peerQueueMessagesMax()).isEqualTo(4096);
    assertThat(s.messageBytesMax()).isEqualTo(16 * 1024 * 1024);
    assertThat(s.batchBytesMax()).isLessThanOrEqualTo(s.messageBytesMax());
  }

  @Test
  void constructor_badValues_rejectedWithTheFieldName() {
    TransportSettings d = TransportSettings.defaults();
    assertThatThrownBy(() -> d.withPeerQueueMessagesMax(0)).hasMessage("peerQueueMessagesMax must be at least 1, got 0");
    assertThatThrownBy(() -> d.withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessage("backoffMax must be at least backoffMin (PT2S), got PT1S");
    assertThatThrownBy(() -> d.withBackoff(Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessage("backoffMin must be positive, got PT0S");
    assertThatThrownBy(() -> d.withBatchBytesMax(32 * 1024 * 1024)).hasMessageStartingWith("batchBytesMax must be in");
    assertThatThrownBy(() -> d.withDialTimeout(Duration.ofMillis(-1))).hasMessageStartingWith("dialTimeout");
  }
}
