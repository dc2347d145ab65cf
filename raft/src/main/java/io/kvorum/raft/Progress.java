package io.kvorum.raft;

/**
 * The leader's view of one follower: how much of the log it holds ({@code match}), what to send it
 * next, and in which mode.
 *
 * <p>PROBE: one APP at a time until the follower's log position is found. REPLICATE: stream APPs
 * optimistically, up to the inflight window. SNAPSHOT: a snapshot is on its way; send nothing until
 * it is acknowledged or reported failed.
 */
final class Progress {
  enum State {
    PROBE,
    REPLICATE,
    SNAPSHOT
  }

  long match;
  long next;
  State state = State.PROBE;
  /** The index of the snapshot in flight, in SNAPSHOT state. */
  long pendingSnapshot;
  /** Heard from since the last check-quorum round (always true for the leader itself). */
  boolean recentActive;
  /** In PROBE: an APP was sent and no answer yet; no further APP until one arrives. */
  boolean probeSent;
  boolean isLearner;
  /** Leader tick at which the newest heartbeat this follower answered was sent (leader lease). */
  long heartbeatAckTick = -1;
  final Inflights inflights;

  Progress(long next, int maxInflight, boolean isLearner) {
    this(next, new Inflights(maxInflight), isLearner);
  }

  private Progress(long next, Inflights inflights, boolean isLearner) {
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  /** A copy for a configuration change; the window is shared because only one copy survives. */
  Progress copy() {
    Progress p = new Progress(next, inflights, isLearner);
    p.match = match;
    p.state = state;
    p.pendingSnapshot = pendingSnapshot;
    p.recentActive = recentActive;
    p.probeSent = probeSent;
    p.heartbeatAckTick = heartbeatAckTick;
    return p;
  }

  private void resetState(State s) {
    probeSent = false;
    pendingSnapshot = 0;
    state = s;
    inflights.reset();
  }

  void becomeProbe() {
    if (state == State.SNAPSHOT) {
      long pending = pendingSnapshot;
      resetState(State.PROBE);
      next = Math.max(match + 1, pending + 1);
    } else {
      resetState(State.PROBE);
      next = match + 1;
    }
  }

  void becomeReplicate() {
    resetState(State.REPLICATE);
    next = match + 1;
  }

  void becomeSnapshot(long snapshotIndex) {
    resetState(State.SNAPSHOT);
    pendingSnapshot = snapshotIndex;
  }

  /** Acknowledgement of the log up to {@code n}; true if it advanced {@code match}. */
  boolean maybeUpdate(long n) {
    boolean updated = false;
    if (match < n) {
      match = n;
      updated = true;
      probeSent = false;
    }
    next = Math.max(next, n + 1);
    return updated;
  }

  void optimisticUpdate(long n) {
    next = n + 1;
  }

  /**
   * A rejection of the APP at {@code rejected}; {@code matchHint} is where the follower's log may
   * match. Returns false for a stale rejection.
   */
  boolean maybeDecrTo(long rejected, long matchHint) {
    if (state == State.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, matchHint + 1), 1);
    probeSent = false;
    return true;
  }

  boolean isPaused() {
    return switch (state) {
      case PROBE -> probeSent;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> true;
    };
  }

  @Override
  public String toString() {
    return state + " match=" + match + " next=" + next + (isLearner ? " learner" : "")
        + (state == State.SNAPSHOT ? " pendingSnap=" + pendingSnapshot : "");
  }
}
