package io.kvorum.tests.robustness.check;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VerdictTest {
  /** Found when a broken build's run reported UNKNOWN over a key it had shown VIOLATION. */
  @Test
  void and_violationOutranksUnknown_whichOutranksOk() {
    assertThat(Verdict.VIOLATION.and(Verdict.UNKNOWN)).isEqualTo(Verdict.VIOLATION);
    assertThat(Verdict.UNKNOWN.and(Verdict.VIOLATION)).isEqualTo(Verdict.VIOLATION);
    assertThat(Verdict.UNKNOWN.and(Verdict.OK)).isEqualTo(Verdict.UNKNOWN);
    assertThat(Verdict.OK.and(Verdict.UNKNOWN)).isEqualTo(Verdict.UNKNOWN);
    assertThat(Verdict.OK.and(Verdict.OK)).isEqualTo(Verdict.OK);
  }
}
