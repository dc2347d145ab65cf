package io.kvorum.tests.robustness.check;

import static io.kvorum.tests.robustness.check.Histories.delete;
import static io.kvorum.tests.robustness.check.Histories.get;
import static io.kvorum.tests.robustness.check.Histories.put;
import static io.kvorum.tests.robustness.check.Histories.putUnknown;
import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.tests.robustness.check.WatchEvent.Type;
import java.util.List;
import org.junit.jupiter.api.Test;

class WatchCheckTest {
  private static final List<Operation> WRITES = List.of(
      put(1, 0, 10, "x", "a", 2),
      put(1, 20, 30, "y", "b", 3),
      get(2, 20, 30, "x", "a", 2, 3),
      delete(1, 40, 50, "x", true, 4),
      delete(1, 60, 70, "x", false, 4),
      putUnknown(2, 60, "y", "c"),
      put(1, 80, 90, "x", "d", 6));

  private static WatchEvent putEvent(String key, long revision, String value) {
    return new WatchEvent(key, revision, Type.PUT, value);
  }

  private static WatchEvent deleteEvent(String key, long revision) {
    return new WatchEvent(key, revision, Type.DELETE, null);
  }

  private static List<String> problems(long start, WatchEvent... events) {
    WatchCheck.Result r = WatchCheck.check(start, List.of(events), WRITES);
    assertThat(r.verdict()).isEqualTo(r.findings().isEmpty() ? Verdict.OK : Verdict.VIOLATION);
    return r.findings().stream().map(Finding::description).toList();
  }

  @Test
  void check_everyWriteInOrderWithAnUnknownOne_isOk() {
    assertThat(problems(1, putEvent("x", 2, "a"), putEvent("y", 3, "b"), deleteEvent("x", 4), putEvent("y", 5, "c"), putEvent("x", 6, "d")))
        .isEmpty();
  }

  @Test
  void check_unknownWriteNotDelivered_isOk() {
    assertThat(problems(1, putEvent("x", 2, "a"), putEvent("y", 3, "b"), deleteEvent("x", 4), putEvent("x", 6, "d"))).isEmpty();
  }

  @Test
  void check_streamStoppingEarlyFromALaterStart_isOk() {
    assertThat(problems(3, putEvent("y", 3, "b"), deleteEvent("x", 4))).isEmpty();
    assertThat(problems(7)).isEmpty();
  }

  @Test
  void check_missingAcknowledgedWrite_isViolation() {
    assertThat(problems(1, putEvent("x", 2, "a"), deleteEvent("x", 4)))
        .containsExactly("the write at revision 3 was not delivered (start 1, last event 4)");
  }

  @Test
  void check_duplicateEvent_isViolation() {
    assertThat(problems(2, putEvent("x", 2, "a"), putEvent("x", 2, "a"), putEvent("y", 3, "b")))
        .containsExactly("event 1 was delivered twice: " + putEvent("x", 2, "a"));
  }

  @Test
  void check_eventsOutOfOrder_isViolation() {
    assertThat(problems(2, putEvent("y", 3, "b"), putEvent("x", 2, "a")))
        .containsExactly("event 1 goes back in revision: " + putEvent("y", 3, "b") + " then " + putEvent("x", 2, "a"));
  }

  @Test
  void check_eventBelowTheStart_isViolation() {
    assertThat(problems(3, putEvent("x", 2, "a"), putEvent("y", 3, "b")))
        .containsExactly("event 0 is below the start revision 3: " + putEvent("x", 2, "a"));
  }

  @Test
  void check_eventDifferingFromItsWrite_isViolation() {
    assertThat(problems(2, putEvent("x", 2, "z"), putEvent("y", 3, "b")))
        .containsExactly("event 0 differs from the write acknowledged at its revision: " + putEvent("x", 2, "z"));
  }

  @Test
  void check_eventOfNoWrite_isViolation() {
    assertThat(problems(5, putEvent("y", 5, "never-written"))).containsExactly(
        "event 0 matches no write: " + putEvent("y", 5, "never-written"));
  }

  @Test
  void check_unknownWriteDeliveredTwice_isViolation() {
    assertThat(problems(5, putEvent("y", 5, "c"), putEvent("y", 7, "c"))).contains(
        "event 1 matches no write: " + putEvent("y", 7, "c"));
  }
}
