package io.kvorum.server.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The gateway's share of {@code --max-concurrent-streams} filled: calls beyond the slots wait, up
 * to {@link GatewayStreams#WAITING_MAX}; one more is refused (the exchange answers 503) instead of
 * queued; a freed slot goes to the longest-waiting call.
 */
class GatewayStreamsTest {
  @Test
  void acquire_slotsTakenAndWaitingMaxWaiting_refusesTheNextCall() {
    GatewayStreams streams = new GatewayStreams(2);
    AtomicInteger started = new AtomicInteger();
    assertThat(streams.acquire(started::incrementAndGet)).isTrue();
    assertThat(streams.acquire(started::incrementAndGet)).isTrue();
    assertThat(started.get()).isEqualTo(2);
    int[] order = new int[GatewayStreams.WAITING_MAX];
    AtomicInteger next = new AtomicInteger();
    for (int i = 0; i < GatewayStreams.WAITING_MAX; i++) {
      int call = i;
      assertThat(streams.acquire(() -> order[next.getAndIncrement()] = call)).isTrue();
    }
    assertThat(streams.waiting()).isEqualTo(GatewayStreams.WAITING_MAX);
    assertThat(streams.acquire(started::incrementAndGet)).isFalse();
    assertThat(started.get()).isEqualTo(2);
    assertThat(streams.active()).isEqualTo(2);

    // Every release starts the longest-waiting call; the slots stay at two.
    for (int i = 0; i < GatewayStreams.WAITING_MAX; i++) {
      streams.release();
    }
    assertThat(next.get()).isEqualTo(GatewayStreams.WAITING_MAX);
    for (int i = 0; i < GatewayStreams.WAITING_MAX; i++) {
      assertThat(order[i]).isEqualTo(i);
    }
    assertThat(streams.active()).isEqualTo(2);
    assertThat(streams.waiting()).isZero();
    streams.release();
    assertThat(streams.active()).isEqualTo(1);
    assertThat(streams.acquire(started::incrementAndGet)).isTrue();
    assertThat(started.get()).isEqualTo(3);
  }
}
