package io.kvorum.server.clock;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FakeClockTest {
  @Test
  void advance_runsDueTimersInTimeOrder_atTheirDueTime() {
    FakeClock c = new FakeClock();
    long t0 = c.nanos();
    List<String> ran = new ArrayList<>();
    c.schedule(Duration.ofMillis(30), () -> ran.add("b@" + (c.nanos() - t0) / 1_000_000));
    c.schedule(Duration.ofMillis(10), () -> ran.add("a@" + (c.nanos() - t0) / 1_000_000));
    c.schedule(Duration.ofMillis(90), () -> ran.add("late"));
    c.advance(Duration.ofMillis(50));
    assertThat(ran).containsExactly("a@10", "b@30");
    assertThat(c.nanos() - t0).isEqualTo(50_000_000);
    assertThat(c.pending()).isEqualTo(1);
  }

  @Test
  void periodicTimers_runOncePerPeriod_onAdvance_andOnceOnAJump() {
    FakeClock c = new FakeClock();
    int[] n = {0};
    Clock.Timer t = c.scheduleEvery(Duration.ofMillis(10), () -> n[0]++);
    c.advance(Duration.ofMillis(35));
    assertThat(n[0]).isEqualTo(3);
    c.jump(Duration.ofSeconds(60));
    assertThat(n[0]).as("a jump coalesces missed periods").isEqualTo(4);
    c.advance(Duration.ofMillis(10));
    assertThat(n[0]).isEqualTo(5);
    t.cancel();
    c.advance(Duration.ofSeconds(1));
    assertThat(n[0]).isEqualTo(5);
  }

  @Test
  void cancelledTimers_neverRun_andTimersScheduledByATimer_runInTheSameAdvanceWhenDue() {
    FakeClock c = new FakeClock();
    List<String> ran = new ArrayList<>();
    c.schedule(Duration.ofMillis(5), () -> ran.add("x")).cancel();
    c.schedule(Duration.ofMillis(5), () -> c.schedule(Duration.ofMillis(5), () -> ran.add("chained")));
    c.advance(Duration.ofMillis(10));
    assertThat(ran).containsExactly("chained");
  }

  @Test
  void wallTime_movesWithTheClock() {
    FakeClock c = new FakeClock(1_000_000L);
    c.advance(Duration.ofSeconds(2));
    assertThat(c.wallMillis()).isEqualTo(1_002_000L);
  }
}
