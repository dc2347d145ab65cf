package io.kvorum.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CompilerPriorityTest {
  @Test
  void niceOf_readsField19_evenWhenTheCommandHoldsSpacesAndParentheses() {
    String stat = "28620 (C2 CompilerThre) S 1 2 3 0 -1 1077936192 0 0 0 0 5 1 0 0 20 -10 27 0 118 0";
    assertThat(CompilerPriority.niceOf(stat)).isEqualTo(-10);
    assertThat(CompilerPriority.niceOf("7 (a) b) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 39 19 1 0 1 0")).isEqualTo(19);
  }
}
