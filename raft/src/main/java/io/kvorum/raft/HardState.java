package io.kvorum.raft;

/** The state a member must persist before it sends a message that depends on it. */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public boolean isEmpty() {
    return term == 0 && vote == 0 && commit == 0;
  }
}
