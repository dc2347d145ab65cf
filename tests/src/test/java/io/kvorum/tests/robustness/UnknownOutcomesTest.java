package io.kvorum.tests.robustness;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvorum.tests.robustness.check.Operation;
import io.kvorum.tests.robustness.check.Request;
import io.kvorum.tests.robustness.check.Response;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnknownOutcomesTest {
  private static final Operation SEEN_PUT = Operation.unknown(1, 10, new Request.Put("kv/0", "c1-0"));
  private static final Operation UNSEEN_CAS = Operation.unknown(2, 20, new Request.CompareAndSet("kv/0", 0, "c2-0"));
  private static final Operation DELETE = Operation.unknown(3, 30, new Request.Delete("kv/0"));
  private static final Operation KNOWN = Operation.completed(4, 40, 50, new Request.Get("kv/0"),
      new Response.Get("c1-0", 7, 7));
  private static final Map<String, WatchRecorder.Seen> SEEN = Map.of("c1-0", new WatchRecorder.Seen(7, 35));

  @Test
  void resolve_watchComplete_seenWriteHappenedAtItsRevisionUnseenDropped() {
    UnknownOutcomes.Resolved r = UnknownOutcomes.resolve(List.of(SEEN_PUT, UNSEEN_CAS, DELETE, KNOWN), SEEN, true);
    assertThat(r.history()).containsExactly(
        Operation.completed(1, 10, 35, new Request.Put("kv/0", "c1-0"), new Response.Put(7)), DELETE, KNOWN);
    assertThat(r.happened()).isEqualTo(1);
    assertThat(r.neverHappened()).isEqualTo(1);
    assertThat(r.stillUnknown()).isEqualTo(1);
  }

  @Test
  void resolve_watchIncomplete_unseenWriteStaysUnknown() {
    UnknownOutcomes.Resolved r = UnknownOutcomes.resolve(List.of(SEEN_PUT, UNSEEN_CAS), SEEN, false);
    assertThat(r.history()).hasSize(2).contains(UNSEEN_CAS);
    assertThat(r.stillUnknown()).isEqualTo(1);
  }
}
