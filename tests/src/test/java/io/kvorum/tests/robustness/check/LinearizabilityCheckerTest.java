package io.kvorum.tests.robustness.check;

import static io.kvorum.tests.robustness.check.Histories.cas;
import static io.kvorum.tests.robustness.check.Histories.delete;
import static io.kvorum.tests.robustness.check.Histories.get;
import static io.kvorum.tests.robustness.check.Histories.put;
import static io.kvorum.tests.robustness.check.Histories.putUnknown;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.tests.robustness.check.LinearizabilityChecker.KeyResult;
import io.kvorum.tests.robustness.check.LinearizabilityChecker.Limits;
import io.kvorum.tests.robustness.check.LinearizabilityChecker.Result;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
  private static Result check(Operation... history) {
    return new LinearizabilityChecker().check(List.of(history));
  }

  @Test
  void check_emptyHistory_isOk() {
    assertThat(check().verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_staleReadAfterCompletedWrite_isViolation() {
    Operation stale = get(2, 40, 50, "x", "a", 2, 3);
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        put(1, 20, 30, "x", "b", 3),
        stale);

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
    KeyResult x = r.keys().get(0);
    assertThat(x.longestPrefix()).hasSize(2);
    assertThat(x.unplaced()).containsExactly(stale);
    assertThat(x.toString()).contains("could not be placed next", "Get[key=x]");
  }

  @Test
  void check_concurrentWritesReadOfEither_isOk() {
    Operation a = put(1, 0, 100, "x", "a", 2);
    Operation b = put(2, 0, 100, "x", "b", 3);

    assertThat(check(a, b, get(3, 50, 60, "x", "a", 2, 2)).verdict()).isEqualTo(Verdict.OK);
    assertThat(check(a, b, get(3, 50, 60, "x", "b", 3, 3)).verdict()).isEqualTo(Verdict.OK);
    assertThat(check(a, b, get(3, 50, 60, "x", null, 0, 1)).verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_readAfterConcurrentWritesSeesTheLowerRevision_isViolation() {
    Result r = check(
        put(1, 0, 100, "x", "a", 2),
        put(2, 0, 100, "x", "b", 3),
        get(3, 150, 160, "x", "a", 2, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_lostAcknowledgedWrite_isViolation() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        put(2, 20, 30, "x", "b", 3),
        get(3, 40, 50, "x", "a", 2, 4),
        get(1, 60, 70, "x", "a", 2, 5));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_unknownWriteThatLaterAppears_isOk() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        putUnknown(2, 20, "x", "b"),
        get(3, 100, 110, "x", "b", 3, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_unknownWriteThatNeverAppears_isOk() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        putUnknown(2, 20, "x", "b"),
        get(3, 100, 110, "x", "a", 2, 2),
        get(3, 200, 210, "x", "a", 2, 2));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_unknownWriteThatAppearsThenVanishes_isViolation() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        putUnknown(2, 20, "x", "b"),
        get(3, 100, 110, "x", "b", 3, 3),
        get(3, 200, 210, "x", "a", 2, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_unknownWriteTakingEffectAfterLaterOperations_isOk() {
    Result r = check(
        putUnknown(1, 0, "x", "a"),
        put(2, 20, 30, "x", "b", 2),
        get(2, 40, 50, "x", "b", 2, 2),
        get(2, 60, 70, "x", "a", 3, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_unknownCompareAndSetThatCouldHaveMatched_mayAppear() {
    Operation a = put(1, 0, 10, "x", "a", 2);
    Operation seenB = get(3, 100, 110, "x", "b", 3, 3);

    assertThat(check(a, Operation.unknown(2, 20, new Request.CompareAndSet("x", 2, "b")), seenB).verdict())
        .isEqualTo(Verdict.OK);
    assertThat(check(a, Operation.unknown(2, 20, new Request.CompareAndSet("x", 7, "b")), seenB).verdict())
        .isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_unknownDeleteThatAppears_isOk() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        Operation.unknown(2, 20, new Request.Delete("x")),
        get(3, 100, 110, "x", null, 0, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_unknownOutcomeRead_isIgnored() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        Operation.unknown(2, 20, new Request.Get("x")));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
    assertThat(r.keys().get(0).steps()).isEqualTo(1);
  }

  @Test
  void check_unknownWriteRevealedBelowAReadHeader_isOk() {
    Result r = check(
        putUnknown(1, 0, "x", "a"),
        cas(2, 20, 30, "x", 9, "b", false, 10),
        get(2, 40, 50, "x", "a", 5, 10));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_compareAndSetSucceedingTwiceOnOneExpectedRevision_isViolation() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        cas(2, 20, 40, "x", 2, "b", true, 3),
        cas(3, 20, 40, "x", 2, "c", true, 4));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_concurrentCompareAndSetsOneWinning_isOk() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        cas(2, 20, 40, "x", 2, "b", true, 3),
        cas(3, 20, 40, "x", 2, "c", false, 3),
        cas(1, 50, 60, "x", 0, "d", false, 3),
        get(1, 70, 80, "x", "b", 3, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_compareAndSetCreatingAbsentKey_isOk() {
    Result r = check(
        cas(1, 0, 10, "x", 0, "a", true, 5),
        get(1, 20, 30, "x", "a", 5, 5));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_readOfOldValueAfterCompletedDelete_isViolation() {
    Operation[] history = {put(1, 0, 10, "x", "a", 2), delete(1, 20, 30, "x", true, 3), get(2, 40, 50, "x", "a", 2, 3)};

    assertThat(check(history).verdict()).isEqualTo(Verdict.VIOLATION);
    history[2] = get(2, 40, 50, "x", null, 0, 3);
    assertThat(check(history).verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_deleteOfAbsentKeyClaimingDeleted_isViolation() {
    assertThat(check(delete(1, 0, 10, "x", true, 2)).verdict()).isEqualTo(Verdict.VIOLATION);
    assertThat(check(delete(1, 0, 10, "x", false, 1)).verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_sequentialWritesWithFallingRevisions_isViolation() {
    Result r = check(
        put(1, 0, 10, "x", "a", 5),
        put(1, 20, 30, "x", "b", 4));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_readHeaderBelowAnEarlierWritesRevision_isViolation() {
    Result r = check(
        put(1, 0, 10, "x", "a", 5),
        get(1, 20, 30, "x", "a", 5, 4));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
  }

  @Test
  void check_violationOnOneKey_leavesOtherKeysOk() {
    Result r = check(
        put(1, 0, 10, "x", "a", 2),
        get(1, 20, 30, "x", "z", 2, 2),
        put(2, 0, 10, "y", "a", 3),
        get(2, 20, 30, "y", "a", 3, 3));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
    assertThat(r.notOk()).extracting(KeyResult::key).containsExactly("x");
  }

  @Test
  void check_manyConcurrentUnknownWrites_isUnknownAtExactlyTheStepBound() {
    long stepsMax = 20_000;
    List<Operation> history = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      history.add(putUnknown(i, i, "x", "v" + i));
    }
    history.add(get(99, 1_000, 1_010, "x", "never-written", 7, 7));

    Result r = new LinearizabilityChecker(new Limits(stepsMax, 1_000)).check(history);

    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
    KeyResult x = r.keys().get(0);
    assertThat(x.steps()).isEqualTo(stepsMax);
    assertThat(x.reason()).contains("stepsMax=" + stepsMax);
  }

  @Test
  void limits_nonPositiveSteps_isRefused() {
    assertThatThrownBy(() -> new Limits(0, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("stepsMax must be positive: 0");
  }
}
