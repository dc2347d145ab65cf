package io.kvorum.cli.aot;

import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

/**
 * The training load behind the AOT cache runs through three members and one without a failed
 * request (bin/kvorum-aot only warns when it fails, so the build would not notice otherwise).
 */
class TrainingTest {
  @Test
  void aShortTraining_servesEveryRequest() {
    assertThatCode(() -> Training.train(2)).doesNotThrowAnyException();
  }
}
