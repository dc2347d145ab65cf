package io.kvorum.server.sched;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NicenessTest {
  @Test
  void niceOf_readsField19_evenWhenTheCommandHoldsSpacesAndParentheses() {
    String stat = "28620 (C2 CompilerThre) S 1 2 3 0 -1 1077936192 0 0 0 0 5 1 0 0 20 -10 27 0 118 0";
    assertThat(Niceness.niceOf(stat)).isEqualTo(-10);
    assertThat(Niceness.niceOf("7 (a) b) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 39 19 1 0 1 0")).isEqualTo(19);
  }

  @Test
  void lowerCurrentThread_raisesThisThreadsNiceValue_whereProcAndReniceExist() throws Exception {
    java.nio.file.Path self = java.nio.file.Path.of("/proc/thread-self/stat");
    org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(self), "Linux only");
    int[] seen = new int[2];
    Thread t = new Thread(() -> {
      try {
        seen[0] = Niceness.niceOf(java.nio.file.Files.readString(self).trim());
        Niceness.lowerCurrentThread(3);
        seen[1] = Niceness.niceOf(java.nio.file.Files.readString(self).trim());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    t.start();
    t.join();
    assertThat(seen[1]).isEqualTo(Math.min(19, seen[0] + 3));
  }
}
