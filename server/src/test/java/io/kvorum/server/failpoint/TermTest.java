package io.kvorum.server.failpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TermTest {
  @Test
  void parse_countedSteps_handOverInOrderThenStayOff() {
    Term t = Term.parse("2*off->return->1*sleep(5)");
    assertThat(t.next().action()).isEqualTo(Term.Action.OFF);
    assertThat(t.next().action()).isEqualTo(Term.Action.OFF);
    assertThat(t.next().action()).isEqualTo(Term.Action.RETURN);
    assertThat(t.next().action()).isEqualTo(Term.Action.RETURN);
  }

  @Test
  void parse_lastCountedStepUsedUp_isOff() {
    Term t = Term.parse("1*off->1*sleep(7)");
    assertThat(t.next().action()).isEqualTo(Term.Action.OFF);
    Term.Step s = t.next();
    assertThat(s.action()).isEqualTo(Term.Action.SLEEP);
    assertThat(s.arg()).isEqualTo(7);
    assertThat(t.next()).isSameAs(Term.OFF);
  }

  @Test
  void parse_badTerms_refusedWithTheReason() {
    assertThatThrownBy(() -> Term.parse("50%panic")).hasMessageContaining("p% (chance) is only for return, not panic");
    assertThatThrownBy(() -> Term.parse("50%sleep(5)")).hasMessageContaining("only for return, not sleep");
    assertThatThrownBy(() -> Term.parse("150%return")).hasMessageContaining("not a percentage: 150");
    assertThatThrownBy(() -> Term.parse("NaN%return")).hasMessageContaining("not a percentage: NaN");
    assertThatThrownBy(() -> Term.parse("5e1%return")).hasMessageContaining("not a percentage: 5e1");
    assertThatThrownBy(() -> Term.parse("explode")).hasMessageContaining("unknown action explode");
    assertThatThrownBy(() -> Term.parse("sleep")).hasMessageContaining("sleep needs (ms)");
    assertThatThrownBy(() -> Term.parse("sleep(99999999)")).hasMessageContaining("at most");
    assertThatThrownBy(() -> Term.parse("panic(3)")).hasMessageContaining("takes no argument");
    assertThatThrownBy(() -> Term.parse("x*panic")).hasMessageContaining("not a count: x");
    assertThatThrownBy(() -> Term.parse("off->".repeat(20) + "off")).hasMessageContaining("more than 16 steps");
  }

  @Test
  void parse_chance_actsOnAboutThatShareOfHits_andTheSameSeedRepeatsTheDraws() {
    Term a = Term.parse("25%return", 42);
    Term b = Term.parse("25%return", 42);
    int acted = 0;
    for (int i = 0; i < 10_000; i++) {
      Term.Action x = a.next().action();
      assertThat(b.next().action()).isEqualTo(x);
      if (x == Term.Action.RETURN) {
        acted++;
      }
    }
    assertThat(acted).isBetween(2_200, 2_800);
  }

  @Test
  void parse_countedChance_countsOnlyTheHitsItActedOn() {
    Term t = Term.parse("50%3*return->panic", 7);
    int returned = 0;
    int hits = 0;
    while (returned < 3) {
      Term.Step s = t.next();
      assertThat(s.action()).isIn(Term.Action.OFF, Term.Action.RETURN);
      if (s.action() == Term.Action.RETURN) {
        returned++;
      }
      hits++;
      assertThat(hits).isLessThan(1_000);
    }
    assertThat(t.next().action()).isEqualTo(Term.Action.PANIC);
  }

  @Test
  void parse_zeroAndHundredPercent_neverAndAlways() {
    Term never = Term.parse("0%return", 1);
    Term always = Term.parse("100%return", 1);
    for (int i = 0; i < 100; i++) {
      assertThat(never.next().action()).isEqualTo(Term.Action.OFF);
      assertThat(always.next().action()).isEqualTo(Term.Action.RETURN);
    }
  }

  @Test
  void set_unknownName_refused() {
    assertThatThrownBy(() -> Failpoints.set("noSuchPoint", "panic"))
        .hasMessage("failpoint noSuchPoint does not exist");
  }

  @Test
  void hitAndOn_whenTheProcessHasNoFailpoints_doNothing() {
    // The test JVM sets neither KVORUM_FAILPOINTS nor the property: every point is inert even
    // when a term is set, which is what production gets.
    Failpoints.set(Failpoint.BUG_WATCH_SKIPS_EVENT.key, "return");
    assertThat(Failpoints.ENABLED).isFalse();
    assertThat(Failpoints.on(Failpoint.BUG_WATCH_SKIPS_EVENT)).isFalse();
    Failpoints.set(Failpoint.BUG_WATCH_SKIPS_EVENT.key, "off");
  }
}
