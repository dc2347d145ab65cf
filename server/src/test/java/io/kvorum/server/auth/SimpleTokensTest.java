package io.kvorum.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.server.clock.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SimpleTokensTest {
  private final FakeClock clock = new FakeClock();
  private final SimpleTokens tokens = new SimpleTokens(clock, Duration.ofSeconds(10));

  @Test
  void token_isPrefixDotIndex_andNamesItsUser() {
    tokens.enable();
    String prefix = tokens.newPrefix();
    assertThat(prefix).matches("[a-zA-Z]{16}");
    String t = tokens.register("alice", prefix, 42);
    assertThat(t).isEqualTo(prefix + ".42");
    assertThat(tokens.appliedIndexNeeded(t)).isEqualTo(42);
    assertThat(tokens.info(t, 7)).isEqualTo(new AuthInfo("alice", 7));
  }

  @Test
  void ttl_restartsOnUse_andExpiresWhenUnused() {
    tokens.enable();
    String t = tokens.register("alice", tokens.newPrefix(), 1);
    clock.advance(Duration.ofSeconds(9));
    assertThat(tokens.info(t, 1)).isNotNull();
    clock.advance(Duration.ofSeconds(9));
    assertThat(tokens.info(t, 1)).as("used 9 s ago: still alive").isNotNull();
    clock.advance(Duration.ofSeconds(11));
    assertThat(tokens.info(t, 1)).isNull();
  }

  @Test
  void sweep_forgetsExpiredTokens() {
    tokens.enable();
    tokens.register("a", tokens.newPrefix(), 1);
    tokens.register("b", tokens.newPrefix(), 2);
    assertThat(tokens.size()).isEqualTo(2);
    clock.advance(Duration.ofSeconds(12));
    assertThat(tokens.size()).isZero();
  }

  @Test
  void malformedOrUnknown_isInvalid() {
    tokens.enable();
    String t = tokens.register("a", "abc", 5);
    assertThat(tokens.info("abc", 1)).isNull();
    assertThat(tokens.info("abc.5.5", 1)).isNull();
    assertThat(tokens.info("abc.x", 1)).isNull();
    assertThat(tokens.info("abd.5", 1)).isNull();
    assertThat(tokens.appliedIndexNeeded("abc.x")).isZero();
    assertThat(tokens.info(t, 1)).isNotNull();
  }

  @Test
  void disable_forgetsAll_invalidateUser_forgetsTheirs() {
    tokens.enable();
    String a = tokens.register("a", tokens.newPrefix(), 1);
    String b = tokens.register("b", tokens.newPrefix(), 2);
    tokens.invalidateUser("a");
    assertThat(tokens.info(a, 1)).isNull();
    assertThat(tokens.info(b, 1)).isNotNull();
    tokens.disable();
    assertThat(tokens.info(b, 1)).isNull();
  }
}
