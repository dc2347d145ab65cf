package io.kvorum.raft;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The caller's handle on one raft member: a thread-unsafe wrapper that feeds inputs to the state
 * machine and hands out {@link Ready} batches. Use it from one thread (the server's raft loop).
 *
 * <p>Protocol: call {@link #tick()} on a timer, {@link #step(Message)} for every message from a
 * peer, propose as needed; whenever {@link #hasReady()}, take {@link #ready()}, handle it as its
 * javadoc says, then call {@link #advance()} before the next {@code ready()}.
 */
public final class RawNode {
  private final Raft raft;
  private SoftState prevSoftState;
  private HardState prevHardState;
  private Ready pending;

  public RawNode(Config config) {
    this.raft = new Raft(config);
    this.prevSoftState = raft.softState();
    this.prevHardState = raft.hardState();
  }

  public long id() {
    return raft.id;
  }

  public void tick() {
    raft.tick();
  }

  /** Starts an election now (the member must be a voter). */
  public void campaign() {
    raft.step(Message.builder(MessageType.HUP).from(raft.id).build());
  }

  /**
   * Proposes {@code data} to be appended to the log.
   *
   * @throws RaftException.ProposalDropped when this member knows the proposal cannot be appended
   *     now; a proposal forwarded by a follower may still be lost, so callers time out.
   */
  public void propose(byte[] data) {
    raft.step(Message.builder(MessageType.PROP).from(raft.id)
        .entries(List.of(new Entry(0, 0, EntryType.NORMAL, data))).build());
  }

  /** Proposes a membership change; the leader turns an invalid or concurrent one into a no-op. */
  public void proposeConfChange(ConfChange cc) {
    raft.step(Message.builder(MessageType.PROP).from(raft.id)
        .entries(List.of(new Entry(0, 0, EntryType.CONF_CHANGE, cc.encode()))).build());
  }

  /**
   * Applies a committed membership change; call it when applying a {@link EntryType#CONF_CHANGE}
   * entry. Returns the configuration now in force (unchanged if the change is invalid).
   */
  public ConfState applyConfChange(ConfChange cc) {
    return raft.applyConfChange(cc);
  }

  /** Steps a message received from a peer. */
  public void step(Message m) {
    if (m.type().isLocal()) {
      throw new RaftException.InvalidMessage("raft: cannot step raft local message " + m.type());
    }
    if (m.type().isResponse() && m.from() != Raft.NONE && !raft.prs.progress.containsKey(m.from())) {
      // A response from a member we no longer track.
      return;
    }
    raft.step(m);
  }

  /** Asks for a linearizable read point; the answer arrives as a {@link ReadState} in a Ready. */
  public void readIndex(byte[] requestCtx) {
    raft.step(Message.builder(MessageType.READ_INDEX).context(requestCtx).build());
  }

  /** Asks the leader to hand leadership to {@code transferee}. */
  public void transferLeader(long transferee) {
    raft.step(Message.builder(MessageType.TRANSFER_LEADER).from(transferee).build());
  }

  public void reportUnreachable(long id) {
    raft.step(Message.builder(MessageType.UNREACHABLE).from(id).build());
  }

  public void reportSnapshot(long id, boolean failed) {
    raft.step(Message.builder(MessageType.SNAP_STATUS).from(id).reject(failed).build());
  }

  public boolean hasReady() {
    if (!raft.softState().equals(prevSoftState)) {
      return true;
    }
    HardState hs = raft.hardState();
    if (!hs.isEmpty() && !hs.equals(prevHardState)) {
      return true;
    }
    RaftLog log = raft.raftLog;
    return log.hasPendingSnapshot()
        || !raft.msgs.isEmpty()
        || !log.unstable.entries.isEmpty()
        || log.hasNextEnts()
        || !raft.readStates.isEmpty();
  }

  /** The current batch of work; call {@link #advance()} once it is handled. */
  public Ready ready() {
    RaftLog log = raft.raftLog;
    SoftState ss = raft.softState();
    HardState hs = raft.hardState();
    List<Entry> entries = log.unstableEntries();
    Ready rd = new Ready(
        ss.equals(prevSoftState) ? null : ss,
        hs.equals(prevHardState) ? null : hs,
        raft.readStates.isEmpty() ? List.of() : List.copyOf(raft.readStates),
        entries,
        log.hasPendingSnapshot() ? log.unstable.snapshot : null,
        log.nextEnts(),
        raft.msgs,
        !entries.isEmpty() || hs.vote() != prevHardState.vote() || hs.term() != prevHardState.term());
    if (rd.softState() != null) {
      prevSoftState = ss;
    }
    raft.readStates.clear();
    raft.msgs = new java.util.ArrayList<>();
    pending = rd;
    return rd;
  }

  /** The last Ready was handled: entries are persisted, committed entries applied. */
  public void advance() {
    Ready rd = pending;
    if (rd == null) {
      return;
    }
    pending = null;
    if (rd.hardState() != null) {
      prevHardState = rd.hardState();
    }
    RaftLog log = raft.raftLog;
    if (rd.snapshot() != null) {
      log.stableSnapTo(rd.snapshot().index());
      if (rd.snapshot().index() > log.applied) {
        log.appliedTo(rd.snapshot().index());
      }
    }
    if (!rd.committedEntries().isEmpty()) {
      List<Entry> ce = rd.committedEntries();
      log.appliedTo(ce.get(ce.size() - 1).index());
      raft.reduceUncommittedSize(ce);
    }
    if (!rd.entries().isEmpty()) {
      Entry last = rd.entries().get(rd.entries().size() - 1);
      log.stableTo(last.index(), last.term());
    }
    if (raft.shouldAutoLeave() && raft.prs.isJoint()) {
      raft.proposeAutoLeave();
    }
  }

  public Status status() {
    Map<Long, Status.ProgressStatus> progress = new LinkedHashMap<>();
    if (raft.state == StateType.LEADER) {
      for (Map.Entry<Long, Progress> e : raft.prs.entries()) {
        Progress p = e.getValue();
        progress.put(e.getKey(), new Status.ProgressStatus(p.match, p.next, p.state.name(), p.isLearner,
            p.recentActive));
      }
    }
    return new Status(raft.id, raft.hardState(), raft.softState(), raft.raftLog.applied, raft.leadTransferee,
        raft.confState(), progress);
  }

  // Package-private views for tests in this package.

  RaftLog raftLog() {
    return raft.raftLog;
  }

  Raft raft() {
    return raft;
  }
}
