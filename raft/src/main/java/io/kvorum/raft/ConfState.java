package io.kvorum.raft;

import java.util.List;

/**
 * A membership configuration. In a joint configuration {@code votersOutgoing} is non-empty and both
 * voter sets must agree; {@code learnersNext} are voters of the outgoing half that become learners
 * when the joint configuration is left. Every list is sorted and free of duplicates.
 */
public record ConfState(
    List<Long> voters,
    List<Long> learners,
    List<Long> votersOutgoing,
    List<Long> learnersNext,
    boolean autoLeave) {
  public static final ConfState EMPTY = new ConfState(List.of(), List.of(), List.of(), List.of(), false);

  public ConfState {
    voters = List.copyOf(voters);
    learners = List.copyOf(learners);
    votersOutgoing = List.copyOf(votersOutgoing);
    learnersNext = List.copyOf(learnersNext);
  }

  /** A simple configuration of the given voters and no learners. */
  public static ConfState ofVoters(long... ids) {
    return new ConfState(sortedList(ids), List.of(), List.of(), List.of(), false);
  }

  public boolean isJoint() {
    return !votersOutgoing.isEmpty();
  }

  /** True when {@code id} votes in this configuration, in either half of a joint one. */
  public boolean isVoter(long id) {
    return voters.contains(id) || votersOutgoing.contains(id);
  }

  static List<Long> sortedList(long... ids) {
    return java.util.Arrays.stream(ids).sorted().distinct().boxed().toList();
  }
}
