package io.kvorum.raft;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The raft protocol for one member, as a state machine: {@link #step(Message)} and {@link #tick()}
 * change state and queue outgoing messages in {@link #msgs}; nothing here does I/O or reads a clock.
 *
 * <p>Design notes (why it is shaped like this):
 * <ul>
 *   <li>Roles are a field plus a dispatch in {@link #step}: leader, candidate, pre-candidate and
 *       follower differ only in how they handle messages and ticks.
 *   <li>Terms only move forward in {@link #step}, in one place, so the rules of Raft §5.1 and the
 *       pre-vote and check-quorum exceptions to them are all visible together.
 *   <li>The leader counts its own log as acknowledged when it appends; the caller must therefore
 *       persist a Ready's entries before it applies that Ready's committed entries.
 *   <li>Leader lease (for LEASE_BASED reads) is measured in the leader's ticks from when a quorum's
 *       acknowledged heartbeat was <em>sent</em>, and is void for the rest of a term once a leader
 *       transfer was started: a forced campaign ignores followers' leases.
 * </ul>
 */
final class Raft {
  static final long NONE = 0;
  /** Context of a vote request sent because of a leader transfer: it bypasses the leader lease. */
  static final byte[] CAMPAIGN_TRANSFER = "CampaignTransfer".getBytes(StandardCharsets.UTF_8);
  /** ReadIndex requests a new leader holds until it commits its first entry. */
  static final int PENDING_READ_INDEX_MESSAGES_MAX = 4096;

  enum CampaignType {
    PRE_ELECTION,
    ELECTION,
    TRANSFER
  }

  final long id;
  long term;
  long vote;
  final List<ReadState> readStates = new ArrayList<>();
  final RaftLog raftLog;
  private final long maxMsgSize;
  private final long maxUncommittedSize;
  ProgressTracker prs;
  StateType state = StateType.FOLLOWER;
  boolean isLearner;
  List<Message> msgs = new ArrayList<>();
  long lead = NONE;
  long leadTransferee = NONE;
  /** Once a TimeoutNow was sent this term, the leader lease can no longer be trusted. */
  private boolean timeoutNowSent;
  long pendingConfIndex;
  private long uncommittedSize;
  ReadOnly readOnly;
  private final ArrayDeque<Message> pendingReadIndexMessages = new ArrayDeque<>();
  int electionElapsed;
  private int heartbeatElapsed;
  /** Ticks since this member became leader; the leader lease's clock. */
  private long leaderTicks;
  /**
   * Ticks since start: a member that just started does not remember which leader it followed, so it
   * refuses votes for one election timeout as if it were in that leader's lease.
   */
  private long ticksSinceStart;
  private final boolean checkQuorum;
  private final boolean preVote;
  private final int heartbeatTimeout;
  private final int electionTimeout;
  private int randomizedElectionTimeout;
  private final boolean disableProposalForwarding;
  private final java.util.random.RandomGenerator random;
  private final ReadOnlyOption readOnlyOption;
  private final int maxInflight;

  Raft(Config c) {
    c.validate();
    this.id = c.id();
    this.raftLog = new RaftLog(c.storage(), c.maxCommittedSizePerReadyBytes());
    Storage.InitialState st = c.storage().initialState();
    this.maxMsgSize = c.maxSizePerMsgBytes();
    this.maxUncommittedSize = c.maxUncommittedEntriesSizeBytes() == 0 ? Long.MAX_VALUE
        : c.maxUncommittedEntriesSizeBytes();
    this.maxInflight = c.maxInflightMsgs();
    this.prs = new ProgressTracker(maxInflight);
    this.electionTimeout = c.electionTicks();
    this.heartbeatTimeout = c.heartbeatTicks();
    this.checkQuorum = c.checkQuorum();
    this.preVote = c.preVote();
    this.readOnlyOption = c.readOnlyOption();
    this.readOnly = new ReadOnly(readOnlyOption);
    this.disableProposalForwarding = c.disableProposalForwarding();
    this.random = c.random();

    ProgressTracker restored = Changer.restore(st.confState(), maxInflight, raftLog.lastIndex());
    switchToConfig(restored);
    if (!st.hardState().isEmpty()) {
      loadState(st.hardState());
    }
    if (c.applied() > 0) {
      raftLog.appliedTo(c.applied());
      replayAppliedConfChanges(st.confIndex(), c.applied());
    }
    becomeFollower(term, NONE);
  }

  /**
   * The storage's configuration is the snapshot's; membership changes applied after the snapshot
   * and up to {@code applied} will not be handed to the application again, so apply them here.
   */
  private void replayAppliedConfChanges(long confIndex, long applied) {
    // The log may still hold entries behind the snapshot (kept for slow followers): changes up to
    // the snapshot are already in its configuration and must not be applied twice.
    long lo = Math.max(raftLog.firstIndex(), confIndex + 1);
    while (lo <= applied) {
      List<Entry> ents = raftLog.slice(lo, applied + 1, 4L * 1024 * 1024);
      if (ents.isEmpty()) {
        break;
      }
      for (Entry e : ents) {
        if (e.type() == EntryType.CONF_CHANGE) {
          applyConfChange(ConfChange.decode(e.data()));
        }
      }
      lo = ents.get(ents.size() - 1).index() + 1;
    }
  }

  // ---------------------------------------------------------------- state

  HardState hardState() {
    return new HardState(term, vote, raftLog.committed);
  }

  SoftState softState() {
    return new SoftState(lead, state);
  }

  private void loadState(HardState hs) {
    Invariants.check(hs.commit() >= raftLog.committed && hs.commit() <= raftLog.lastIndex(),
        "%x state.commit %d is out of range [%d, %d]", id, hs.commit(), raftLog.committed, raftLog.lastIndex());
    raftLog.committed = hs.commit();
    term = hs.term();
    vote = hs.vote();
  }

  /** Can this member campaign: a voter of the current configuration with no snapshot pending. */
  boolean promotable() {
    Progress pr = prs.progress.get(id);
    return pr != null && !pr.isLearner && !raftLog.hasPendingSnapshot();
  }

  private boolean pastElectionTimeout() {
    return electionElapsed >= randomizedElectionTimeout;
  }

  private void resetRandomizedElectionTimeout() {
    randomizedElectionTimeout = electionTimeout + random.nextInt(electionTimeout);
  }

  // ---------------------------------------------------------------- sending

  private void send(Message.Builder b) {
    Message m = b.build();
    if (m.from() == NONE) {
      m = m.toBuilder().from(id).build();
    }
    MessageType t = m.type();
    if (t == MessageType.VOTE || t == MessageType.VOTE_RESP || t == MessageType.PRE_VOTE
        || t == MessageType.PRE_VOTE_RESP) {
      Invariants.check(m.term() != 0, "term should be set when sending %s", t);
    } else {
      Invariants.check(m.term() == 0, "term should not be set when sending %s (was %d)", t, m.term());
      // Proposals and ReadIndex requests are forwarded to the leader as local messages: no term.
      if (t != MessageType.PROP && t != MessageType.READ_INDEX) {
        m = m.toBuilder().term(term).build();
      }
    }
    msgs.add(m);
  }

  private void sendAppend(long to) {
    maybeSendAppend(to, true);
  }

  /** Sends an APP (or a snapshot) to {@code to}; false if nothing was sent. */
  private boolean maybeSendAppend(long to, boolean sendIfEmpty) {
    Progress pr = prs.progress.get(to);
    if (pr == null || pr.isPaused()) {
      return false;
    }
    long prevTerm;
    List<Entry> ents;
    boolean needSnapshot = false;
    try {
      prevTerm = raftLog.term(pr.next - 1);
      ents = raftLog.entries(pr.next, maxMsgSize);
    } catch (RaftException.Compacted | RaftException.Unavailable e) {
      prevTerm = 0;
      ents = List.of();
      needSnapshot = true;
    }
    if (!needSnapshot && ents.isEmpty() && !sendIfEmpty) {
      return false;
    }
    if (needSnapshot) {
      if (!pr.recentActive) {
        return false;
      }
      Snapshot snapshot;
      try {
        snapshot = raftLog.snapshot();
      } catch (RaftException.SnapshotTemporarilyUnavailable e) {
        return false;
      }
      Invariants.check(!snapshot.isEmpty(), "need non-empty snapshot");
      send(Message.builder(MessageType.SNAP).to(to).snapshot(snapshot));
      pr.becomeSnapshot(snapshot.index());
      return true;
    }
    send(Message.builder(MessageType.APP).to(to).index(pr.next - 1).logTerm(prevTerm).entries(ents)
        .commit(raftLog.committed));
    if (!ents.isEmpty()) {
      switch (pr.state) {
        case REPLICATE -> {
          long last = ents.get(ents.size() - 1).index();
          pr.optimisticUpdate(last);
          pr.inflights.add(last);
        }
        case PROBE -> pr.probeSent = true;
        default -> throw new IllegalStateException("sending append in unhandled state " + pr.state);
      }
    }
    return true;
  }

  private void sendHeartbeat(long to, byte[] ctx) {
    Progress pr = prs.progress.get(to);
    // A follower may not have the entries up to our commit yet: never tell it to commit past match.
    long commit = Math.min(pr.match, raftLog.committed);
    send(Message.builder(MessageType.HEARTBEAT).to(to).commit(commit).index(leaderTicks).context(ctx));
  }

  private void bcastAppend() {
    for (long to : prs.ids()) {
      if (to != id) {
        sendAppend(to);
      }
    }
  }

  private void bcastHeartbeat() {
    bcastHeartbeatWithCtx(readOnly.lastPendingRequestCtx());
  }

  private void bcastHeartbeatWithCtx(byte[] ctx) {
    for (long to : prs.ids()) {
      if (to != id) {
        sendHeartbeat(to, ctx);
      }
    }
  }

  // ---------------------------------------------------------------- log

  /** Commits what a quorum has; true if the commit index moved. */
  private boolean maybeCommit() {
    return raftLog.maybeCommit(prs.committed(), term);
  }

  private void reset(long newTerm) {
    if (term != newTerm) {
      term = newTerm;
      vote = NONE;
    }
    lead = NONE;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    leaderTicks = 0;
    timeoutNowSent = false;
    resetRandomizedElectionTimeout();
    abortLeaderTransfer();
    prs.resetVotes();
    long last = raftLog.lastIndex();
    for (Map.Entry<Long, Progress> e : prs.entries()) {
      Progress old = e.getValue();
      Progress pr = new Progress(last + 1, maxInflight, old.isLearner);
      if (e.getKey() == id) {
        pr.match = last;
      }
      e.setValue(pr);
    }
    pendingConfIndex = 0;
    uncommittedSize = 0;
    readOnly = new ReadOnly(readOnlyOption);
    pendingReadIndexMessages.clear();
  }

  /** Appends proposals at the leader; false if the uncommitted-size limit refuses them. */
  private boolean appendEntry(List<Entry> es) {
    long li = raftLog.lastIndex();
    List<Entry> stamped = new ArrayList<>(es.size());
    for (int i = 0; i < es.size(); i++) {
      stamped.add(es.get(i).at(term, li + 1 + i));
    }
    if (!increaseUncommittedSize(stamped)) {
      return false;
    }
    li = raftLog.append(stamped);
    Progress self = prs.progress.get(id);
    if (self != null) {
      self.maybeUpdate(li);
    }
    maybeCommit();
    return true;
  }

  private static long payloadSize(List<Entry> es) {
    long s = 0;
    for (Entry e : es) {
      s += e.data().length;
    }
    return s;
  }

  private boolean increaseUncommittedSize(List<Entry> es) {
    long s = payloadSize(es);
    if (uncommittedSize > 0 && s > 0 && uncommittedSize + s > maxUncommittedSize) {
      return false;
    }
    uncommittedSize += s;
    return true;
  }

  void reduceUncommittedSize(List<Entry> es) {
    if (uncommittedSize == 0) {
      return;
    }
    long s = payloadSize(es);
    uncommittedSize = s > uncommittedSize ? 0 : uncommittedSize - s;
  }

  // ---------------------------------------------------------------- ticks

  void tick() {
    ticksSinceStart++;
    if (state == StateType.LEADER) {
      tickHeartbeat();
    } else {
      tickElection();
    }
  }

  private void tickElection() {
    electionElapsed++;
    if (promotable() && pastElectionTimeout()) {
      electionElapsed = 0;
      step(Message.builder(MessageType.HUP).from(id).build());
    }
  }

  private void tickHeartbeat() {
    heartbeatElapsed++;
    electionElapsed++;
    leaderTicks++;
    if (electionElapsed >= electionTimeout) {
      electionElapsed = 0;
      if (checkQuorum) {
        step(Message.builder(MessageType.CHECK_QUORUM).from(id).build());
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (state == StateType.LEADER && leadTransferee != NONE) {
        abortLeaderTransfer();
      }
    }
    if (state != StateType.LEADER) {
      return;
    }
    if (heartbeatElapsed >= heartbeatTimeout) {
      heartbeatElapsed = 0;
      step(Message.builder(MessageType.BEAT).from(id).build());
    }
  }

  // ---------------------------------------------------------------- roles

  void becomeFollower(long newTerm, long newLead) {
    reset(newTerm);
    lead = newLead;
    state = StateType.FOLLOWER;
  }

  private void becomeCandidate() {
    Invariants.check(state != StateType.LEADER, "invalid transition [leader -> candidate]");
    reset(term + 1);
    vote = id;
    state = StateType.CANDIDATE;
  }

  private void becomePreCandidate() {
    Invariants.check(state != StateType.LEADER, "invalid transition [leader -> pre-candidate]");
    // Pre-vote changes neither term nor vote.
    prs.resetVotes();
    lead = NONE;
    state = StateType.PRE_CANDIDATE;
  }

  private void becomeLeader() {
    Invariants.check(state != StateType.FOLLOWER, "invalid transition [follower -> leader]");
    reset(term);
    lead = id;
    state = StateType.LEADER;
    Progress self = prs.progress.get(id);
    if (self != null) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservatively treat every entry up to the last as a possible configuration change: no new
    // one is proposed until they are applied.
    pendingConfIndex = raftLog.lastIndex();
    boolean ok = appendEntry(List.of(Entry.normal(0, 0, null)));
    Invariants.check(ok, "empty entry was dropped");
  }

  private void hup(CampaignType t) {
    if (state == StateType.LEADER) {
      return;
    }
    if (!promotable()) {
      return;
    }
    if (raftLog.committed > raftLog.applied && hasUnappliedConfChange()) {
      // A configuration change we have not applied may remove us or change the quorum.
      return;
    }
    campaign(t);
  }

  private boolean hasUnappliedConfChange() {
    long lo = Math.max(raftLog.applied + 1, raftLog.firstIndex());
    long hi = raftLog.committed + 1;
    // Bounded scan in chunks so a long unapplied tail does not load all at once.
    while (lo < hi) {
      List<Entry> ents = raftLog.slice(lo, hi, 4L * 1024 * 1024);
      for (Entry e : ents) {
        if (e.type() == EntryType.CONF_CHANGE) {
          return true;
        }
      }
      if (ents.isEmpty()) {
        break;
      }
      lo = ents.get(ents.size() - 1).index() + 1;
    }
    return false;
  }

  void campaign(CampaignType t) {
    if (!promotable()) {
      return;
    }
    long voteTerm;
    MessageType voteMsg;
    if (t == CampaignType.PRE_ELECTION) {
      becomePreCandidate();
      voteMsg = MessageType.PRE_VOTE;
      // Pre-vote asks for the next term without moving to it.
      voteTerm = term + 1;
    } else {
      becomeCandidate();
      voteMsg = MessageType.VOTE;
      voteTerm = term;
    }
    if (poll(id, true) == VoteResult.WON) {
      // A single voter wins at once.
      if (t == CampaignType.PRE_ELECTION) {
        campaign(CampaignType.ELECTION);
      } else {
        becomeLeader();
      }
      return;
    }
    for (long to : prs.voterIds()) {
      if (to == id) {
        continue;
      }
      send(Message.builder(voteMsg).to(to).term(voteTerm).index(raftLog.lastIndex()).logTerm(raftLog.lastTerm())
          .context(t == CampaignType.TRANSFER ? CAMPAIGN_TRANSFER : null));
    }
  }

  private VoteResult poll(long from, boolean granted) {
    prs.recordVote(from, granted);
    return prs.tallyVotes();
  }

  // ---------------------------------------------------------------- step

  void step(Message m) {
    if (m.term() == 0) {
      // Local message.
    } else if (m.term() > term) {
      if (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE) {
        boolean force = Arrays.equals(m.context(), CAMPAIGN_TRANSFER);
        boolean inLease = checkQuorum
            && ((lead != NONE && electionElapsed < electionTimeout)
                || (readOnlyOption == ReadOnlyOption.LEASE_BASED && ticksSinceStart < electionTimeout));
        if (!force && inLease) {
          // We heard from a leader within an election timeout: do not update the term or grant
          // a vote. This keeps a partitioned member from disrupting a healthy leader.
          return;
        }
      }
      if (m.type() == MessageType.PRE_VOTE) {
        // Never change our term in response to a pre-vote.
      } else if (m.type() == MessageType.PRE_VOTE_RESP && !m.reject()) {
        // A granted pre-vote carries the term we will campaign in; the term moves only once a
        // quorum grants. A rejection with a higher term makes us a follower below.
      } else if (m.type() == MessageType.APP || m.type() == MessageType.HEARTBEAT
          || m.type() == MessageType.SNAP) {
        becomeFollower(m.term(), m.from());
      } else {
        becomeFollower(m.term(), NONE);
      }
    } else if (m.term() < term) {
      if (m.type() == MessageType.HEARTBEAT || m.type() == MessageType.APP) {
        // A leader of an older term: maybe we raised our term while partitioned and cannot win an
        // election now (our stale configuration may not even list the current voters). Tell it our
        // term so it steps down and a new election can include us. With pre-vote and check-quorum
        // this is rare; without them it is the only way back (found by simulation seed 7729).
        send(Message.builder(MessageType.APP_RESP).to(m.from()));
      } else if (m.type() == MessageType.PRE_VOTE) {
        // Reject a pre-vote of an older term, or the pre-candidate waits forever.
        send(Message.builder(MessageType.PRE_VOTE_RESP).to(m.from()).term(term).reject(true));
      }
      return;
    }

    switch (m.type()) {
      case HUP -> hup(preVote ? CampaignType.PRE_ELECTION : CampaignType.ELECTION);
      case VOTE, PRE_VOTE -> handleVoteRequest(m);
      default -> {
        switch (state) {
          case LEADER -> stepLeader(m);
          case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
          case FOLLOWER -> stepFollower(m);
          default -> throw new IllegalStateException("unknown state " + state);
        }
      }
    }
  }

  private void handleVoteRequest(Message m) {
    boolean canVote = vote == m.from()
        || (vote == NONE && lead == NONE)
        || (m.type() == MessageType.PRE_VOTE && m.term() > term);
    if (canVote && raftLog.isUpToDate(m.index(), m.logTerm())) {
      // The response carries the request's term: for a pre-vote that is our term + 1, which the
      // pre-candidate recognises as its own.
      send(Message.builder(MessageType.voteResponseFor(m.type())).to(m.from()).term(m.term()));
      if (m.type() == MessageType.VOTE) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(Message.builder(MessageType.voteResponseFor(m.type())).to(m.from()).term(term).reject(true));
    }
  }

  private void stepLeader(Message m) {
    switch (m.type()) {
      case BEAT -> {
        bcastHeartbeat();
        return;
      }
      case CHECK_QUORUM -> {
        if (!prs.quorumActive(id)) {
          becomeFollower(term, NONE);
        }
        for (Map.Entry<Long, Progress> e : prs.entries()) {
          if (e.getKey() != id) {
            e.getValue().recentActive = false;
          }
        }
        return;
      }
      case PROP -> {
        stepLeaderProposal(m);
        return;
      }
      case READ_INDEX -> {
        if (prs.isSingleton(id)) {
          respondToReadIndex(m, raftLog.committed);
          return;
        }
        if (!committedEntryInCurrentTerm()) {
          // Raft thesis §6.4: a new leader does not know the latest commit index until it
          // commits an entry of its own term. Hold the request until then.
          if (pendingReadIndexMessages.size() < PENDING_READ_INDEX_MESSAGES_MAX) {
            pendingReadIndexMessages.addLast(m);
          }
          return;
        }
        handleReadIndexAsLeader(m);
        return;
      }
      default -> { }
    }

    Progress pr = prs.progress.get(m.from());
    if (pr == null) {
      return;
    }
    switch (m.type()) {
      case APP_RESP -> handleAppendResponse(m, pr);
      case HEARTBEAT_RESP -> {
        pr.recentActive = true;
        pr.probeSent = false;
        if (m.index() > pr.heartbeatAckTick) {
          pr.heartbeatAckTick = m.index();
        }
        // A heartbeat answer proves the follower is alive: free a slot so a full window cannot
        // stall replication after lost messages.
        if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) {
          pr.inflights.freeFirstOne();
        }
        if (pr.match < raftLog.lastIndex()) {
          sendAppend(m.from());
        }
        if (m.context() == null) {
          return;
        }
        Set<Long> acks = readOnly.recvAck(m.from(), m.context());
        if (acks == null || !prs.isQuorum(acks::contains)) {
          return;
        }
        for (ReadOnly.ReadIndexStatus rs : readOnly.advance(m.context())) {
          respondToReadIndex(rs.req, rs.index);
        }
      }
      case SNAP_STATUS -> {
        if (pr.state != Progress.State.SNAPSHOT) {
          return;
        }
        if (m.reject()) {
          pr.pendingSnapshot = 0;
        }
        pr.becomeProbe();
        // Wait for an APP_RESP or heartbeat answer before the next APP.
        pr.probeSent = true;
      }
      case UNREACHABLE -> {
        if (pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
      }
      case TRANSFER_LEADER -> handleTransferLeader(m, pr);
      default -> { }
    }
  }

  private void stepLeaderProposal(Message m) {
    Invariants.check(!m.entries().isEmpty(), "%x stepped empty MsgProp", id);
    if (!prs.progress.containsKey(id)) {
      throw new RaftException.ProposalDropped("leader was removed from the configuration");
    }
    if (leadTransferee != NONE) {
      throw new RaftException.ProposalDropped("leadership transfer to " + leadTransferee + " in progress");
    }
    List<Entry> ents = new ArrayList<>(m.entries());
    for (int i = 0; i < ents.size(); i++) {
      Entry e = ents.get(i);
      if (e.type() != EntryType.CONF_CHANGE) {
        continue;
      }
      String refused = confChangeRefusal(e);
      if (refused != null) {
        // Keep the slot (the proposer's index bookkeeping) but drop the change.
        ents.set(i, Entry.normal(0, 0, null));
      } else {
        pendingConfIndex = raftLog.lastIndex() + i + 1;
      }
    }
    if (!appendEntry(ents)) {
      throw new RaftException.ProposalDropped("too many uncommitted entries");
    }
    bcastAppend();
  }

  /** Why the leader refuses this configuration change, or null to accept it. */
  private String confChangeRefusal(Entry e) {
    ConfChange cc;
    try {
      cc = ConfChange.decode(e.data());
    } catch (IllegalArgumentException ex) {
      return "undecodable conf change";
    }
    if (pendingConfIndex > raftLog.applied) {
      return "possible unapplied conf change at index " + pendingConfIndex + " (applied to " + raftLog.applied + ")";
    }
    boolean alreadyJoint = prs.isJoint();
    if (alreadyJoint && !cc.isLeaveJoint()) {
      return "must transition out of joint config first";
    }
    if (!alreadyJoint && cc.isLeaveJoint()) {
      return "not in joint state; refusing empty conf change";
    }
    try {
      new Changer(prs, raftLog.lastIndex()).apply(cc);
    } catch (Changer.ConfChangeException ex) {
      return ex.getMessage();
    }
    return null;
  }

  private void handleAppendResponse(Message m, Progress pr) {
    pr.recentActive = true;
    if (m.reject()) {
      long nextProbeIdx = m.rejectHint();
      if (m.logTerm() > 0) {
        // Skip every entry of ours whose term is above the follower's term at the hint: they
        // cannot match (fast backtracking).
        nextProbeIdx = raftLog.findConflictByTerm(m.rejectHint(), m.logTerm());
      }
      if (pr.maybeDecrTo(m.index(), nextProbeIdx)) {
        if (pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
        sendAppend(m.from());
      }
      return;
    }
    boolean oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index())) {
      return;
    }
    switch (pr.state) {
      case PROBE -> pr.becomeReplicate();
      case SNAPSHOT -> {
        if (pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
      }
      case REPLICATE -> pr.inflights.freeLE(m.index());
      default -> { }
    }
    if (maybeCommit()) {
      releasePendingReadIndexMessages();
      bcastAppend();
    } else if (oldPaused) {
      // The follower was paused: it may be waiting for entries we held back.
      sendAppend(m.from());
    }
    // Send as much as the window allows (large backlogs go out in several messages).
    int guard = maxInflight + 1;
    while (guard-- > 0 && maybeSendAppend(m.from(), false)) {
      // keep sending
    }
    if (m.from() == leadTransferee && pr.match == raftLog.lastIndex()) {
      sendTimeoutNow(m.from());
    }
  }

  private void handleTransferLeader(Message m, Progress pr) {
    if (pr.isLearner) {
      return;
    }
    long transferee = m.from();
    if (leadTransferee != NONE) {
      if (leadTransferee == transferee) {
        return;
      }
      abortLeaderTransfer();
    }
    if (transferee == id) {
      return;
    }
    // The transfer must finish within one election timeout.
    electionElapsed = 0;
    leadTransferee = transferee;
    if (pr.match == raftLog.lastIndex()) {
      sendTimeoutNow(transferee);
    } else {
      sendAppend(transferee);
    }
  }

  private void sendTimeoutNow(long to) {
    timeoutNowSent = true;
    send(Message.builder(MessageType.TIMEOUT_NOW).to(to));
  }

  void abortLeaderTransfer() {
    leadTransferee = NONE;
  }

  private boolean committedEntryInCurrentTerm() {
    return raftLog.termOrZero(raftLog.committed) == term;
  }

  private void releasePendingReadIndexMessages() {
    if (pendingReadIndexMessages.isEmpty() || !committedEntryInCurrentTerm()) {
      return;
    }
    while (!pendingReadIndexMessages.isEmpty()) {
      handleReadIndexAsLeader(pendingReadIndexMessages.pollFirst());
    }
  }

  /** True when the lease can not answer reads: fall back to a heartbeat round. */
  private boolean leaseUnusable() {
    if (readOnly.option != ReadOnlyOption.LEASE_BASED || timeoutNowSent || leadTransferee != NONE) {
      return true;
    }
    long confirmedAt = prs.quorumHeartbeatAckTick(id, leaderTicks);
    // Followers refuse votes for electionTimeout ticks after they got that heartbeat, which was
    // sent at confirmedAt; keep a tick of margin for tick ordering between members.
    return confirmedAt < 0 || leaderTicks >= confirmedAt + electionTimeout - 1;
  }

  private void handleReadIndexAsLeader(Message m) {
    if (!leaseUnusable()) {
      respondToReadIndex(m, raftLog.committed);
      return;
    }
    if (m.context() == null) {
      return;
    }
    if (!readOnly.addRequest(raftLog.committed, m)) {
      return;
    }
    readOnly.recvAck(id, m.context());
    bcastHeartbeatWithCtx(m.context());
  }

  private void respondToReadIndex(Message req, long readIndex) {
    if (req.from() == NONE || req.from() == id) {
      readStates.add(new ReadState(readIndex, req.context()));
      return;
    }
    send(Message.builder(MessageType.READ_INDEX_RESP).to(req.from()).index(readIndex).context(req.context()));
  }

  private void stepCandidate(Message m) {
    MessageType myVoteResp = state == StateType.PRE_CANDIDATE ? MessageType.PRE_VOTE_RESP : MessageType.VOTE_RESP;
    switch (m.type()) {
      case PROP -> throw new RaftException.ProposalDropped("no leader at term " + term);
      case APP -> {
        becomeFollower(m.term(), m.from());
        handleAppendEntries(m);
      }
      case HEARTBEAT -> {
        becomeFollower(m.term(), m.from());
        handleHeartbeat(m);
      }
      case SNAP -> {
        becomeFollower(m.term(), m.from());
        handleSnapshot(m);
      }
      default -> {
        if (m.type() == myVoteResp) {
          VoteResult res = poll(m.from(), !m.reject());
          if (res == VoteResult.WON) {
            if (state == StateType.PRE_CANDIDATE) {
              campaign(CampaignType.ELECTION);
            } else {
              becomeLeader();
              bcastAppend();
            }
          } else if (res == VoteResult.LOST) {
            // A pre-vote lost at a higher term was handled in step(); here the term is ours.
            becomeFollower(term, NONE);
          }
        }
        // TIMEOUT_NOW, READ_INDEX and the rest are ignored without a leader.
      }
    }
  }

  private void stepFollower(Message m) {
    switch (m.type()) {
      case PROP -> {
        if (lead == NONE) {
          throw new RaftException.ProposalDropped("no leader at term " + term);
        }
        if (disableProposalForwarding) {
          throw new RaftException.ProposalDropped("proposal forwarding is disabled");
        }
        send(m.toBuilder().to(lead));
      }
      case APP -> {
        electionElapsed = 0;
        lead = m.from();
        handleAppendEntries(m);
      }
      case HEARTBEAT -> {
        electionElapsed = 0;
        lead = m.from();
        handleHeartbeat(m);
      }
      case SNAP -> {
        electionElapsed = 0;
        lead = m.from();
        handleSnapshot(m);
      }
      case TRANSFER_LEADER -> {
        if (lead != NONE) {
          send(m.toBuilder().to(lead).term(0));
        }
      }
      case TIMEOUT_NOW -> {
        // A transfer never uses pre-vote: the leader asked for it.
        hup(CampaignType.TRANSFER);
      }
      case READ_INDEX -> {
        if (lead != NONE) {
          send(m.toBuilder().to(lead));
        }
      }
      case READ_INDEX_RESP -> readStates.add(new ReadState(m.index(), m.context()));
      default -> { }
    }
  }

  private void handleAppendEntries(Message m) {
    if (m.index() < raftLog.committed) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(raftLog.committed));
      return;
    }
    long lastNew = raftLog.maybeAppend(m.index(), m.logTerm(), m.commit(), m.entries());
    if (lastNew >= 0) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(lastNew));
      return;
    }
    // Tell the leader where our log may match: the largest index at or below the probe whose term
    // is at most the leader's term there, so it can skip whole terms.
    long hintIndex = Math.min(m.index(), raftLog.lastIndex());
    hintIndex = raftLog.findConflictByTerm(hintIndex, m.logTerm());
    long hintTerm = raftLog.termOrZero(hintIndex);
    send(Message.builder(MessageType.APP_RESP).to(m.from()).index(m.index()).reject(true)
        .rejectHint(hintIndex).logTerm(hintTerm));
  }

  private void handleHeartbeat(Message m) {
    raftLog.commitTo(m.commit());
    send(Message.builder(MessageType.HEARTBEAT_RESP).to(m.from()).index(m.index()).context(m.context()));
  }

  private void handleSnapshot(Message m) {
    Snapshot s = m.snapshot();
    if (s != null && restore(s)) {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(raftLog.lastIndex()));
    } else {
      send(Message.builder(MessageType.APP_RESP).to(m.from()).index(raftLog.committed));
    }
  }

  /** Installs a snapshot from the leader; false if it is stale or already covered by our log. */
  boolean restore(Snapshot s) {
    if (s.index() <= raftLog.committed) {
      return false;
    }
    if (state != StateType.FOLLOWER) {
      // Only a leader of our term sends snapshots; defend against a bug by not trusting ourselves.
      becomeFollower(term + 1, NONE);
      return false;
    }
    if (raftLog.matchTerm(s.index(), s.term())) {
      // We hold the snapshot's last entry: just move the commit index.
      raftLog.commitTo(s.index());
      return false;
    }
    raftLog.restore(s);
    ProgressTracker restored = Changer.restore(s.metadata().confState(), maxInflight, raftLog.lastIndex());
    switchToConfig(restored);
    Progress self = prs.progress.get(id);
    if (self != null) {
      self.maybeUpdate(self.next - 1);
    }
    return true;
  }

  // ---------------------------------------------------------------- membership

  ConfState applyConfChange(ConfChange cc) {
    ProgressTracker next;
    try {
      next = new Changer(prs, raftLog.lastIndex()).apply(cc);
    } catch (Changer.ConfChangeException e) {
      // Every member applies the same entries in the same order and gets the same refusal, so
      // ignoring it keeps all members identical.
      return prs.confState();
    }
    return switchToConfig(next);
  }

  private ConfState switchToConfig(ProgressTracker next) {
    this.prs = next;
    ConfState cs = prs.confState();
    Progress self = prs.progress.get(id);
    isLearner = self != null && self.isLearner;
    if ((self == null || isLearner) && state == StateType.LEADER) {
      // The leader was removed or demoted. Hand leadership to the most caught-up voter and step
      // down, so the cluster does not wait out an election timeout.
      long best = NONE;
      long bestMatch = -1;
      for (long v : prs.voterIds()) {
        Progress pr = prs.progress.get(v);
        if (pr != null && pr.match > bestMatch) {
          best = v;
          bestMatch = pr.match;
        }
      }
      if (best != NONE) {
        sendTimeoutNow(best);
      }
      becomeFollower(term, NONE);
      return cs;
    }
    if (state != StateType.LEADER || cs.voters().isEmpty()) {
      return cs;
    }
    if (maybeCommit()) {
      bcastAppend();
    } else {
      for (long to : prs.ids()) {
        if (to != id) {
          maybeSendAppend(to, false);
        }
      }
    }
    if (leadTransferee != NONE && !prs.isVoter(leadTransferee)) {
      abortLeaderTransfer();
    }
    return cs;
  }

  /** The configuration in force. */
  ConfState confState() {
    return prs.confState();
  }

  /** Leader only: whether an automatic leave-joint should be proposed now. */
  boolean shouldAutoLeave() {
    return state == StateType.LEADER && prs.autoLeave && pendingConfIndex <= raftLog.applied;
  }

  /** Leader only: proposes leaving the joint configuration (auto-leave). */
  void proposeAutoLeave() {
    byte[] data = ConfChange.leaveJoint().encode();
    try {
      stepLeaderProposal(Message.builder(MessageType.PROP).from(id)
          .entries(List.of(new Entry(0, 0, EntryType.CONF_CHANGE, data))).build());
    } catch (RaftException.ProposalDropped e) {
      // Retried at the next advance.
    }
  }
}
