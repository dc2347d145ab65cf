package io.kvorum.tests.robustness.check;

import static io.kvorum.tests.robustness.check.Histories.cas;
import static io.kvorum.tests.robustness.check.Histories.delete;
import static io.kvorum.tests.robustness.check.Histories.get;
import static io.kvorum.tests.robustness.check.Histories.put;
import static io.kvorum.tests.robustness.check.Histories.putUnknown;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RevisionCheckTest {
  private static RevisionCheck.Result check(Operation... history) {
    return RevisionCheck.check(List.of(history));
  }

  @Test
  void check_increasingRevisionsAcrossKeys_isOk() {
    RevisionCheck.Result r = check(
        put(1, 0, 10, "x", "a", 2),
        put(2, 5, 15, "y", "b", 3),
        get(1, 20, 30, "y", "b", 3, 3),
        delete(2, 20, 30, "x", true, 4),
        delete(2, 40, 50, "x", false, 4),
        cas(1, 40, 50, "y", 3, "c", true, 5),
        putUnknown(3, 60, "z", "d"));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
    assertThat(r.findings()).isEmpty();
  }

  @Test
  void check_duplicateRevisions_isViolation() {
    RevisionCheck.Result r = check(
        put(1, 0, 10, "x", "a", 5),
        put(2, 0, 10, "y", "b", 5));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
    assertThat(r.findings()).singleElement().extracting(Finding::description)
        .isEqualTo("two acknowledged writes got revision 5");
  }

  @Test
  void check_failedCompareAndSetSharingARevision_isOk() {
    RevisionCheck.Result r = check(
        put(1, 0, 10, "x", "a", 5),
        cas(2, 20, 30, "x", 4, "b", false, 5));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_writeAfterWriteWithLowerRevision_isViolation() {
    RevisionCheck.Result r = check(
        put(1, 0, 10, "x", "a", 5),
        put(2, 20, 30, "y", "b", 4));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
    assertThat(r.findings().get(0).description()).startsWith("a write invoked after another write completed");
  }

  @Test
  void check_concurrentWritesInEitherRevisionOrder_isOk() {
    RevisionCheck.Result r = check(
        put(1, 0, 10, "x", "a", 5),
        put(2, 5, 30, "y", "b", 4));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }

  @Test
  void check_readOnAnotherKeyBelowACompletedWrite_isViolation() {
    RevisionCheck.Result r = check(
        put(1, 0, 10, "x", "a", 5),
        get(2, 20, 30, "y", null, 0, 4));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
    assertThat(r.findings().get(0).description()).startsWith("a response invoked after a write completed");
  }

  @Test
  void check_clientHeaderRevisionGoingBackwards_isViolation() {
    RevisionCheck.Result r = check(
        get(1, 0, 10, "x", null, 0, 7),
        get(1, 20, 30, "y", null, 0, 6));

    assertThat(r.verdict()).isEqualTo(Verdict.VIOLATION);
    assertThat(r.findings().get(0).description()).isEqualTo("client 1 saw the header revision go backwards (7 then 6)");
  }

  @Test
  void check_differentClientsReadingOlderRevisions_isOk() {
    RevisionCheck.Result r = check(
        get(1, 0, 10, "x", null, 0, 7),
        get(2, 20, 30, "y", null, 0, 6));

    assertThat(r.verdict()).isEqualTo(Verdict.OK);
  }
}
