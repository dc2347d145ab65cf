package io.kvorum.raft;

/** How a multi-step {@link ConfChange} moves through joint consensus. */
public enum ConfChangeTransition {
  /**
   * A single change that keeps quorums intersecting is applied directly; anything else goes through
   * a joint configuration that the leader leaves automatically.
   */
  AUTO,
  /** Always joint; the leader proposes leaving it once it is committed. */
  JOINT_IMPLICIT,
  /** Always joint; the application proposes an empty ConfChange to leave it. */
  JOINT_EXPLICIT
}
