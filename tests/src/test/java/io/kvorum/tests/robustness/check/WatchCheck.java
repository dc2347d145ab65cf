package io.kvorum.tests.robustness.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Checks what one watch stream delivered from its start revision against the writes made to the
 * watched range: events come in revision order without duplicates, none before the start; every
 * acknowledged write from the start up to the last event's revision was delivered, as written; and
 * every event is some write's, either an acknowledged one with the same revision or one whose
 * outcome is unknown (each of those explains at most one event).
 */
public final class WatchCheck {
  /** The verdict and what broke it, at most {@link RevisionCheck#FINDINGS_MAX} findings. */
  public record Result(Verdict verdict, List<Finding> findings) {
    public Result {
      findings = List.copyOf(findings);
    }
  }

  private WatchCheck() {}

  /**
   * @param startRevision the watch's start revision
   * @param events the events in the order delivered
   * @param rangeOperations the operations on the watched range; reads are ignored
   */
  public static Result check(long startRevision, List<WatchEvent> events, List<Operation> rangeOperations) {
    List<Finding> findings = new ArrayList<>();
    Map<Long, Operation> acknowledged = new HashMap<>();
    List<Operation> unknown = new ArrayList<>();
    for (Operation o : rangeOperations) {
      OptionalLong rev = o.writeRevision();
      if (rev.isPresent()) {
        acknowledged.put(rev.getAsLong(), o);
      } else if (!o.known() && o.isWrite()) {
        unknown.add(o);
      }
    }

    Set<String> seen = new HashSet<>();
    Set<Long> delivered = new HashSet<>();
    Set<Operation> usedUnknown = new HashSet<>();
    for (int i = 0; i < events.size(); i++) {
      WatchEvent e = events.get(i);
      if (e.revision() < startRevision) {
        report(findings, "event " + i + " is below the start revision " + startRevision + ": " + e, List.of());
      }
      if (i > 0 && e.revision() < events.get(i - 1).revision()) {
        report(findings, "event " + i + " goes back in revision: " + events.get(i - 1) + " then " + e, List.of());
      }
      if (!seen.add(e.key() + "@" + e.revision())) {
        report(findings, "event " + i + " was delivered twice: " + e, List.of());
        continue;
      }
      delivered.add(e.revision());
      Operation write = acknowledged.get(e.revision());
      if (write != null) {
        if (!matches(e, write)) {
          report(findings, "event " + i + " differs from the write acknowledged at its revision: " + e, List.of(write));
        }
        continue;
      }
      Operation explained = null;
      for (Operation u : unknown) {
        if (!usedUnknown.contains(u) && matches(e, u)) {
          explained = u;
          break;
        }
      }
      if (explained == null) {
        report(findings, "event " + i + " matches no write: " + e, List.of());
      } else {
        usedUnknown.add(explained);
      }
    }

    long last = events.isEmpty() ? startRevision - 1 : events.get(events.size() - 1).revision();
    acknowledged.entrySet().stream()
        .filter(en -> en.getKey() >= startRevision && en.getKey() <= last && !delivered.contains(en.getKey()))
        .sorted(Map.Entry.comparingByKey())
        .forEach(en -> report(findings, "the write at revision " + en.getKey() + " was not delivered (start "
            + startRevision + ", last event " + last + ")", List.of(en.getValue())));

    return new Result(findings.isEmpty() ? Verdict.OK : Verdict.VIOLATION, findings);
  }

  /** Whether an event shows this write: same key, and a put of its value or a delete. */
  private static boolean matches(WatchEvent e, Operation write) {
    if (!e.key().equals(write.key())) {
      return false;
    }
    Request r = write.request();
    if (r instanceof Request.Put put) {
      return e.type() == WatchEvent.Type.PUT && Objects.equals(e.value(), put.value());
    }
    if (r instanceof Request.CompareAndSet cas) {
      return e.type() == WatchEvent.Type.PUT && Objects.equals(e.value(), cas.newValue());
    }
    return r instanceof Request.Delete && e.type() == WatchEvent.Type.DELETE;
  }

  private static void report(List<Finding> findings, String problem, List<Operation> ops) {
    if (findings.size() < RevisionCheck.FINDINGS_MAX) {
      findings.add(new Finding(problem, ops));
    }
  }
}
