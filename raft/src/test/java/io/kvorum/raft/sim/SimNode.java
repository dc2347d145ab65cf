package io.kvorum.raft.sim;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.MemoryStorage;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.StateType;
import io.kvorum.raft.Status;

/**
 * One simulated member: its durable part ({@link MemoryStorage} and the application state, which
 * survive a crash) and its volatile part (the {@link RawNode} and what the harness cached from its
 * Readys, which a crash throws away).
 *
 * <p>The application is a hash chain over the applied entries: {@code appChain} after applying
 * index i is a function of every entry up to i, so two members whose chains differ at one index
 * applied different histories, and a snapshot carries (index, chain) so an installed snapshot can be
 * checked against what the other members applied.
 */
public final class SimNode {
  /** Where a scheduled crash strikes within the handling of the member's next Ready. */
  enum CrashPoint {
    NONE,
    BEFORE_PERSIST,
    AFTER_PERSIST,
    AFTER_SEND,
    MID_APPLY
  }

  final long id;
  final MemoryStorage storage = new MemoryStorage();
  RawNode raw;
  boolean started;
  boolean decommissioned;
  int incarnation;

  // The application's durable state, updated atomically with each applied entry.
  long appApplied;
  long appChain;
  ConfState appConf = ConfState.EMPTY;

  // Volatile: this incarnation's view, rebuilt on restart.
  /** The last index raft handed to the application in this incarnation. */
  long cursor;
  StateType role = StateType.FOLLOWER;
  long lead;
  long term;
  long commit;
  CrashPoint crashPoint = CrashPoint.NONE;
  long crashedAtStep = -1;
  long restartAtStep = -1;

  // Counters for scenario assertions.
  int snapshotsInstalled;
  final int[] sent = new int[MessageType.values().length];

  SimNode(long id) {
    this.id = id;
  }

  public long id() {
    return id;
  }

  /** Running: started, not crashed, not decommissioned. */
  public boolean isUp() {
    return raw != null;
  }

  public boolean isDecommissioned() {
    return decommissioned;
  }

  public RawNode raw() {
    return raw;
  }

  public MemoryStorage storage() {
    return storage;
  }

  public long appliedIndex() {
    return appApplied;
  }

  public ConfState appliedConfig() {
    return appConf;
  }

  public StateType role() {
    return raw == null ? StateType.FOLLOWER : role;
  }

  public boolean isLeader() {
    return raw != null && role == StateType.LEADER;
  }

  public long term() {
    return term;
  }

  public long lead() {
    return lead;
  }

  public int snapshotsInstalled() {
    return snapshotsInstalled;
  }

  /** How many messages of {@code type} this member sent over its whole life. */
  public int sentCount(MessageType type) {
    return sent[type.ordinal()];
  }

  public Status status() {
    return raw.status();
  }

  @Override
  public String toString() {
    if (!started) {
      return "n" + id + "[never started]";
    }
    String state = decommissioned ? "DECOMMISSIONED" : raw == null ? "DOWN" : role.toString();
    return "n" + id + "[" + state + " t" + term + " lead=" + lead + " commit=" + commit + " applied=" + appApplied
        + " snap=" + storage.snapshot().index() + " log=" + storage.firstIndex() + ".." + storage.lastIndex()
        + " conf=" + confString(appConf) + "]";
  }

  static String confString(ConfState cs) {
    StringBuilder sb = new StringBuilder().append(cs.voters());
    if (cs.isJoint()) {
      sb.append("&").append(cs.votersOutgoing());
    }
    if (!cs.learners().isEmpty()) {
      sb.append("L").append(cs.learners());
    }
    if (!cs.learnersNext().isEmpty()) {
      sb.append("LN").append(cs.learnersNext());
    }
    if (cs.autoLeave()) {
      sb.append("auto");
    }
    return sb.toString();
  }
}
