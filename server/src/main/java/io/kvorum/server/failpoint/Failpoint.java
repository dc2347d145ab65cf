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
  /**
   * The raft loop is about to write one Ready's hard state and entries to the WAL (entries of
   * earlier rounds are durable; this round's are not written yet).
   */
  RAFT_BEFORE_SAVE("raftBeforeSave"),
  /**
   * The WAL holds (and, when raft asked for it, has fsynced) this Ready's hard state and entries;
   * a follower has not yet answered for them, nothing of this round is applied yet.
   */
  RAFT_AFTER_SAVE("raftAfterSave"),
  /**
   * Between two entries of one applied batch: the entries before are in the backend, the ones after
   * are not, the applied index is not yet published and no client has its answer.
   */
  APPLY_MID_BATCH("applyMidBatch"),
  /** A committed membership change entry is about to be decided and applied (member add, remove, update). */
  BEFORE_APPLY_ONE_CONF_CHANGE("beforeApplyOneConfChange"),
  /** Leader side: a snapshot's message and a chunk of its backend sent, the stream not finished. */
  SNAPSHOT_SEND_MID("raftSnapshotSendMid"),
  /**
   * Follower side: a chunk of an incoming snapshot stored in the incoming SST files, the transfer
   * not finished (nothing renamed, raft has not seen the message).
   */
  SNAPSHOT_RECEIVE_MID("raftSnapshotReceiveMid"),
  /**
   * A snapshot received from the leader is durable (its file, the WAL's record and the shipped
   * backend) and about to replace the backend on the apply thread.
   */
  RAFT_BEFORE_APPLY_SNAP("raftBeforeApplySnap"),
  /**
   * Before a batch of a physical compaction's deletes is committed (the compaction is applied and
   * its scheduled mark persisted; its finished mark is written with the last batch).
   */
  COMPACT_MID("compactBeforeCommitBatch"),
  /**
   * During a defragmentation, after each column family's full compaction, before the next one
   * (etcd's instant is before the rename of the copied file; a RocksDB compaction has none).
   */
  DEFRAG_MID("defragBeforeRename"),
  /** Each WAL fsync, before it: {@code sleep(ms)} makes a slow disk. */
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
   * The same instant as {@link #RAFT_BEFORE_SAVE}, but its {@code panic} is a power cut: the open
   * WAL segment first loses what was written after its last fsync, and the backend, opened
   * without RocksDB's automatic log writes when this point is set at start, loses the writes it
   * had not synced. Must be set in {@code KVORUM_FAILPOINTS} (the backend is opened after it is
   * read); see docs/robustness.md for what the emulation loses and what it does not.
   */
  RAFT_POWER_CUT("raftPowerCut"),
  /**
   * Switch: the WAL does not fsync the Ready raft asked it to, so a member applies and answers a
   * write before it is durable (the data reaches the disk at the next segment cut or snapshot). A
   * crash that loses the page cache ({@link #RAFT_POWER_CUT}) then loses an acknowledged write.
   */
  BUG_ACK_BEFORE_FSYNC("bugAckBeforeFsync"),
  /**
   * Switch: serve a linearizable read from this member's local state, without a read index (a
   * follower cut off from the leader answers stale data instead of timing out).
   */
  BUG_LOCAL_LINEARIZABLE_READS("bugLocalLinearizableReads"),
  /**
   * Switch: a watch stream silently drops an event: each event about to be sent is one hit, and a
   * hit whose step is {@code return} is skipped ({@code 9*off->1*return} drops every tenth, once).
   */
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
