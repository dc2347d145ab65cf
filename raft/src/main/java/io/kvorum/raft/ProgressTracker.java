package io.kvorum.raft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The active configuration and, on a leader, the progress of every member in it. Quorum questions
 * (what is committed, who won the vote, is a quorum active) are answered here for simple and joint
 * configurations alike: a joint configuration needs a majority of both halves.
 *
 * <p>Maps are sorted by id so that every iteration, and so every message order, is deterministic.
 */
final class ProgressTracker {
  /** Voters of the incoming (or only) configuration. */
  TreeSet<Long> incoming = new TreeSet<>();
  /** Voters of the outgoing configuration; empty unless joint. */
  TreeSet<Long> outgoing = new TreeSet<>();
  TreeSet<Long> learners = new TreeSet<>();
  /** Outgoing voters that become learners when the joint configuration is left. */
  TreeSet<Long> learnersNext = new TreeSet<>();
  boolean autoLeave;
  TreeMap<Long, Progress> progress = new TreeMap<>();
  final Map<Long, Boolean> votes = new HashMap<>();
  final int maxInflight;

  ProgressTracker(int maxInflight) {
    this.maxInflight = maxInflight;
  }

  boolean isJoint() {
    return !outgoing.isEmpty();
  }

  ConfState confState() {
    return new ConfState(List.copyOf(incoming), List.copyOf(learners), List.copyOf(outgoing),
        List.copyOf(learnersNext), autoLeave);
  }

  /** True when {@code id} votes in either half. */
  boolean isVoter(long id) {
    return incoming.contains(id) || outgoing.contains(id);
  }

  /** All voter ids of both halves, sorted. */
  TreeSet<Long> voterIds() {
    TreeSet<Long> ids = new TreeSet<>(incoming);
    ids.addAll(outgoing);
    return ids;
  }

  /** True when this member is the only voter (it decides alone). */
  boolean isSingleton(long self) {
    return !isJoint() && incoming.size() == 1 && incoming.contains(self);
  }

  /** The highest index acknowledged by a quorum of both halves. */
  long committed() {
    return Math.min(majorityCommitted(incoming), majorityCommitted(outgoing));
  }

  private long majorityCommitted(TreeSet<Long> voters) {
    int n = voters.size();
    if (n == 0) {
      // An empty configuration agrees to everything, so that joint min() picks the other half.
      return Long.MAX_VALUE;
    }
    long[] acked = new long[n];
    int i = 0;
    for (long id : voters) {
      Progress pr = progress.get(id);
      acked[i++] = pr == null ? 0 : pr.match;
    }
    Arrays.sort(acked);
    return acked[n - (n / 2 + 1)];
  }

  /** The leader-lease tick confirmed by a quorum: the lowest tick a majority has acknowledged. */
  long quorumHeartbeatAckTick(long self, long now) {
    return Math.min(majorityTick(incoming, self, now), majorityTick(outgoing, self, now));
  }

  private long majorityTick(TreeSet<Long> voters, long self, long now) {
    int n = voters.size();
    if (n == 0) {
      return Long.MAX_VALUE;
    }
    long[] ticks = new long[n];
    int i = 0;
    for (long id : voters) {
      Progress pr = progress.get(id);
      ticks[i++] = id == self ? now : (pr == null ? -1 : pr.heartbeatAckTick);
    }
    Arrays.sort(ticks);
    return ticks[n - (n / 2 + 1)];
  }

  void resetVotes() {
    votes.clear();
  }

  void recordVote(long id, boolean granted) {
    votes.putIfAbsent(id, granted);
  }

  /** Counts the votes recorded so far. */
  VoteResult tallyVotes() {
    return voteResult(id -> votes.get(id));
  }

  int granted() {
    int n = 0;
    for (long id : voterIds()) {
      if (Boolean.TRUE.equals(votes.get(id))) {
        n++;
      }
    }
    return n;
  }

  /** Votes: true yes, false no, null not yet cast. */
  VoteResult voteResult(java.util.function.Function<Long, Boolean> vote) {
    VoteResult r1 = majorityVote(incoming, vote);
    VoteResult r2 = majorityVote(outgoing, vote);
    if (r1 == r2) {
      return r1;
    }
    if (r1 == VoteResult.LOST || r2 == VoteResult.LOST) {
      return VoteResult.LOST;
    }
    return VoteResult.PENDING;
  }

  private static VoteResult majorityVote(TreeSet<Long> voters, java.util.function.Function<Long, Boolean> vote) {
    if (voters.isEmpty()) {
      return VoteResult.WON;
    }
    int yes = 0;
    int missing = 0;
    for (long id : voters) {
      Boolean v = vote.apply(id);
      if (v == null) {
        missing++;
      } else if (v) {
        yes++;
      }
    }
    int q = voters.size() / 2 + 1;
    if (yes >= q) {
      return VoteResult.WON;
    }
    if (yes + missing >= q) {
      return VoteResult.PENDING;
    }
    return VoteResult.LOST;
  }

  /** True if a quorum has been active (the leader itself counts as active). */
  boolean quorumActive(long self) {
    return voteResult(id -> {
      Progress pr = progress.get(id);
      if (pr == null) {
        return false;
      }
      return id == self || pr.recentActive;
    }) == VoteResult.WON;
  }

  /** True if the members matching {@code acked} form a quorum. */
  boolean isQuorum(Predicate<Long> acked) {
    return voteResult(acked::test) == VoteResult.WON;
  }

  /** Progress entries in id order. */
  Iterable<Map.Entry<Long, Progress>> entries() {
    return progress.entrySet();
  }

  List<Long> ids() {
    return new ArrayList<>(progress.keySet());
  }

  /** A deep copy, for a configuration change to work on without touching the live one. */
  ProgressTracker copy() {
    ProgressTracker t = new ProgressTracker(maxInflight);
    t.incoming = new TreeSet<>(incoming);
    t.outgoing = new TreeSet<>(outgoing);
    t.learners = new TreeSet<>(learners);
    t.learnersNext = new TreeSet<>(learnersNext);
    t.autoLeave = autoLeave;
    for (Map.Entry<Long, Progress> e : progress.entrySet()) {
      t.progress.put(e.getKey(), e.getValue().copy());
    }
    return t;
  }
}
