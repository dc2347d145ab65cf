package io.kvorum.tests.robustness;

import io.kvorum.tests.robustness.check.Operation;
import io.kvorum.tests.robustness.check.Request;
import io.kvorum.tests.robustness.check.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Resolves writes of unknown outcome from what the watchers saw, as etcd's robustness suite
 * patches its history: every put writes a value no other operation writes, so a value in a watch
 * event says the write happened at that revision, no later than the event arrived; a value absent
 * from watchers that were complete up to the last write says it never happened. Each unknown
 * outcome left open multiplies the linearizability search; resolved ones cost nothing.
 *
 * <p>Sound as long as the watch is complete, which {@code WatchCheck} checks separately on the
 * unresolved history: an event it missed would turn a write that happened into one that did not,
 * and reads of its value would then show as a violation, never hide one. Deletes write no value
 * and stay unknown.
 */
final class UnknownOutcomes {
  /** What the resolution did. */
  record Resolved(List<Operation> history, int happened, int neverHappened, int stillUnknown) {}

  private UnknownOutcomes() {}

  /**
   * @param watchComplete whether the watchers reached the run's last write, so a value they did not
   *     see was never written
   */
  static Resolved resolve(List<Operation> history, Map<String, WatchRecorder.Seen> seen, boolean watchComplete) {
    List<Operation> out = new ArrayList<>(history.size());
    int happened = 0;
    int never = 0;
    int open = 0;
    for (Operation o : history) {
      if (o.known() || o.request() instanceof Request.Delete || o.request() instanceof Request.Get) {
        out.add(o);
        if (!o.known() && o.request() instanceof Request.Delete) {
          open++;
        }
        continue;
      }
      String value = o.request() instanceof Request.Put p ? p.value() : ((Request.CompareAndSet) o.request()).newValue();
      WatchRecorder.Seen s = seen.get(value);
      if (s != null) {
        Response r = o.request() instanceof Request.Put
            ? new Response.Put(s.revision())
            : new Response.CompareAndSet(true, s.revision());
        out.add(Operation.completed(o.client(), o.invokeNanos(), Math.max(o.invokeNanos(), s.receivedNanos()),
            o.request(), r));
        happened++;
      } else if (watchComplete) {
        // Never written: a put that did not happen, or a compare-and-set that did not happen or
        // whose compare failed; neither changed anything.
        never++;
      } else {
        out.add(o);
        open++;
      }
    }
    return new Resolved(out, happened, never, open);
  }
}
