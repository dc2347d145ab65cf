package io.kvorum.server.failpoint;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every failpoint the server has, by the name a test sets. Where etcd 3.4/3.5 has a gofail point
 * at the same instant the name is etcd's, so a robustness scenario reads the same on both.
 *
 * <p>Crash points ({@code panic}) stop the process at once, as SIGKILL would, at an instant a
 * signal from outside could only hit by luck. Switches ({@code return}) make the member misbehave
 * in one documented way, so a test can show that the checks catch it.
 */
public enum Failpoint {
  /** Entries and hard state written to the WAL, not yet fsynced. */
  RAFT_BEFORE_SAVE("raftBeforeSave"),
  /** The WAL fsynced, nothing of the Ready applied or sent yet. */
  RAFT_AFTER_SAVE("raftAfterSave"),
  /** In the middle of applying a batch of committed entries: some applied, some not. */
  APPLY_MID_BATCH("applyMidBatch"),
  /** Before a membership change entry is applied. */
  BEFORE_APPLY_ONE_CONF_CHANGE("beforeApplyOneConfChange"),
  /** A snapshot partly streamed to a follower (sender side). */
  SNAPSHOT_SEND_MID("raftSnapshotSendMid"),
  /** A snapshot partly received from the leader (receiver side). */
  SNAPSHOT_RECEIVE_MID("raftSnapshotReceiveMid"),
  /** A received snapshot saved, not yet loaded into the backend. */
  RAFT_BEFORE_APPLY_SNAP("raftBeforeApplySnap"),
  /** In the middle of a compaction's deletes. */
  COMPACT_MID("compactBeforeCommitBatch"),
  /** In the middle of a defragmentation. */
  DEFRAG_MID("defragBeforeRename"),
  /** Each WAL fsync: {@code sleep(ms)} makes a slow disk. */
  WAL_FSYNC("walFsync"),
  /**
   * Each batch of raft messages this member sends to a peer, before it goes out:
   * {@code sleep(ms)} delays this member's outbound peer traffic (the sender's other messages
   * queue behind it, as on a slow link).
   */
  PEER_SEND_DELAY("peerSendDelay"),
  /**
   * Each raft message (not a snapshot) this member sends to a peer: {@code return} loses it on
   * the way, silently, as a lossy network would; {@code 10%return} loses one in ten.
   */
  PEER_SEND_DROP("peerSendDrop"),
  /**
   * Each raft message (not a snapshot) this member sends to a peer: {@code return} holds it back
   * and sends it after the next message to that peer, so the peer receives the two in swapped
   * order.
   */
  PEER_SEND_REORDER("peerSendReorder"),
  /**
   * Switch: answer a put once its entry is committed, before this member has fsynced it. A crash
   * that loses the page cache then loses an acknowledged write.
   */
  BUG_ACK_BEFORE_FSYNC("bugAckBeforeFsync"),
  /** Switch: serve a linearizable read from the local state, without a read index. */
  BUG_LOCAL_LINEARIZABLE_READS("bugLocalLinearizableReads"),
  /** Switch: a watch stream silently skips one event now and then. */
  BUG_WATCH_SKIPS_EVENT("bugWatchSkipsEvent");

  private static final Map<String, Failpoint> BY_NAME = new HashMap<>();

  static {
    for (Failpoint f : values()) {
      BY_NAME.put(f.key, f);
    }
  }

  /** The name {@code KVORUM_FAILPOINTS} uses. */
  public final String key;

  Failpoint(String key) {
    this.key = key;
  }

  static Optional<Failpoint> named(String key) {
    return Optional.ofNullable(BY_NAME.get(key));
  }
}
