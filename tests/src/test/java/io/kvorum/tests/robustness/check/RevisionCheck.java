package io.kvorum.tests.robustness.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Checks etcd's revisions across all keys, where the per-key linearizability check cannot see:
 * every acknowledged write created its own revision; revisions grow in real-time order (a write
 * invoked after another completed has a larger revision, and any response invoked after a write
 * completed has a header revision at least that write's: etcd's reads are linearizable); and one
 * client never sees the header revision go backwards.
 *
 * <p>Only acknowledged operations take part: an unknown outcome carries no revision. The real-time
 * rule is a sweep over operations by invocation with the writes sorted by completion, so the check
 * is O(n log n).
 */
public final class RevisionCheck {
  /** Findings reported before the check stops collecting; the verdict is already decided by then. */
  public static final int FINDINGS_MAX = 100;

  /** The verdict and what broke it, at most {@link #FINDINGS_MAX} findings. */
  public record Result(Verdict verdict, List<Finding> findings) {
    public Result {
      findings = List.copyOf(findings);
    }
  }

  private RevisionCheck() {}

  public static Result check(List<Operation> history) {
    List<Finding> findings = new ArrayList<>();
    List<Operation> known = history.stream().filter(Operation::known).toList();

    Map<Long, Operation> byRevision = new HashMap<>();
    for (Operation o : known) {
      OptionalLong rev = o.writeRevision();
      if (rev.isPresent()) {
        Operation other = byRevision.putIfAbsent(rev.getAsLong(), o);
        if (other != null) {
          add(findings, new Finding("two acknowledged writes got revision " + rev.getAsLong(), List.of(other, o)));
        }
      }
    }

    List<Operation> writesByCompletion = known.stream()
        .filter(o -> o.writeRevision().isPresent())
        .sorted(Comparator.comparingLong(Operation::completeNanos))
        .toList();
    List<Operation> byInvocation = known.stream().sorted(Comparator.comparingLong(Operation::invokeNanos)).toList();
    int completed = 0;
    Operation latest = null;
    for (Operation o : byInvocation) {
      while (completed < writesByCompletion.size() && writesByCompletion.get(completed).completeNanos() < o.invokeNanos()) {
        Operation w = writesByCompletion.get(completed++);
        if (latest == null || w.writeRevision().getAsLong() > latest.writeRevision().getAsLong()) {
          latest = w;
        }
      }
      if (latest == null) {
        continue;
      }
      long before = latest.writeRevision().getAsLong();
      OptionalLong wrote = o.writeRevision();
      if (wrote.isPresent() && wrote.getAsLong() <= before) {
        add(findings, new Finding("a write invoked after another write completed got a revision not above it ("
            + wrote.getAsLong() + " <= " + before + ")", List.of(latest, o)));
      } else if (wrote.isEmpty() && o.response().revision() < before) {
        add(findings, new Finding("a response invoked after a write completed has an older header revision ("
            + o.response().revision() + " < " + before + ")", List.of(latest, o)));
      }
    }

    Map<Integer, List<Operation>> byClient = new HashMap<>();
    for (Operation o : byInvocation) {
      byClient.computeIfAbsent(o.client(), c -> new ArrayList<>()).add(o);
    }
    for (List<Operation> ops : byClient.values()) {
      for (int i = 1; i < ops.size(); i++) {
        Operation previous = ops.get(i - 1);
        Operation o = ops.get(i);
        if (previous.completeNanos() < o.invokeNanos() && o.response().revision() < previous.response().revision()) {
          add(findings, new Finding("client " + o.client() + " saw the header revision go backwards ("
              + previous.response().revision() + " then " + o.response().revision() + ")", List.of(previous, o)));
        }
      }
    }
    return new Result(findings.isEmpty() ? Verdict.OK : Verdict.VIOLATION, findings);
  }

  private static void add(List<Finding> findings, Finding finding) {
    if (findings.size() < FINDINGS_MAX) {
      findings.add(finding);
    }
  }
}
