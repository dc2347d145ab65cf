package io.kvorum.raft.sim;

import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Config;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.HardState;
import io.kvorum.raft.Message;
import io.kvorum.raft.MessageType;
import io.kvorum.raft.RaftException;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.ReadState;
import io.kvorum.raft.Ready;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import io.kvorum.raft.StateType;
import io.kvorum.raft.Status;
import io.kvorum.raft.Storage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * A whole raft cluster in one thread: members ({@link SimNode}), the network between them ({@link
 * SimNetwork}) and the application each member runs, driven step by step. Each step is one unit of
 * simulated time: every {@code stepsPerTick} steps all running members tick together, then every
 * message due is delivered. After each event on a member the cluster handles that member's Readys at
 * once, in the order {@link Ready} prescribes, and shows everything to the {@link SafetyChecker}.
 *
 * <p>Nothing here reads a clock or an unseeded random source, and iteration is in id order, so one
 * seed always produces the same run. Client actions (propose, read, membership changes, crashes) are
 * public so a scenario test can script a run by hand; {@link Simulation} drives them at random.
 *
 * <p>Durability model: a member's {@link io.kvorum.raft.MemoryStorage} and its application state
 * survive a crash, nothing else does. The application applies each entry atomically with its
 * applied index, so that index never goes back. A crash may strike at a chosen point of handling a
 * Ready (before persisting, after persisting, after sending, halfway through applying).
 */
public final class SimCluster {
  /** A member with more Readys than this in a row is stuck handing out work. */
  private static final int READY_ROUNDS_MAX = 100_000;
  /** The application state of the bootstrap snapshot: a chain over no entries. */
  static final long BOOT_CHAIN = 0x1B00757A11L;
  private static final byte PAYLOAD_TAG = 'P';

  final long seed;
  final SimConfig cfg;
  private final SplittableRandom random;
  private final SimNetwork network;
  final EventLog events = new EventLog();
  private final SafetyChecker checker;
  private final SimNode[] nodes;
  private final int nodeIdMax;
  private long nextNodeId;
  private long step;
  private long ticks;
  private long nextPayload = 1;
  private long nextRead = 1;
  private long membershipSeenIndex;
  private final List<PendingDecommission> pendingDecommissions = new ArrayList<>();
  private final List<Long> pendingRestarts = new ArrayList<>();
  private long crashes;
  private long confChangesApplied;
  private long snapshotsInstalled;

  public SimCluster(SimConfig cfg, long seed) {
    this.cfg = cfg;
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    this.network = new SimNetwork(random.split(), cfg);
    int initial = cfg.voters + cfg.learners;
    this.nodeIdMax = Math.min(SimNetwork.NODE_ID_MAX, initial + cfg.addedNodesMax);
    this.nodes = new SimNode[nodeIdMax + 1];
    this.checker = new SafetyChecker(this, cfg, nodeIdMax);
    this.nextNodeId = initial + 1;
    bootstrap();
  }

  /** Every initial member starts from the same snapshot at index 1 holding the configuration. */
  private void bootstrap() {
    List<Long> voters = new ArrayList<>();
    List<Long> learners = new ArrayList<>();
    for (long id = 1; id <= cfg.voters; id++) {
      voters.add(id);
    }
    for (long id = cfg.voters + 1; id <= cfg.voters + cfg.learners; id++) {
      learners.add(id);
    }
    ConfState cs = new ConfState(voters, learners, List.of(), List.of(), false);
    Snapshot boot = new Snapshot(new SnapshotMetadata(cs, 1, 1), snapshotData(1, BOOT_CHAIN));
    checker.bootstrap(1, 1, BOOT_CHAIN, cs);
    for (long id = 1; id <= cfg.voters + cfg.learners; id++) {
      SimNode n = new SimNode(id);
      nodes[(int) id] = n;
      n.storage.applySnapshot(boot);
      n.storage.setHardState(new HardState(1, 0, 1));
      n.appApplied = 1;
      n.appChain = BOOT_CHAIN;
      n.appConf = cs;
      guard(() -> startRaw(n, 1));
      events.add(step, EventLog.Kind.START, id, "bootstrap " + SimNode.confString(cs));
    }
  }

  private void startRaw(SimNode n, long applied) {
    Storage storage = cfg.snapshotUnavailableRate > 0
        ? new FlakyStorage(n.storage, random.split(), cfg.snapshotUnavailableRate)
        : n.storage;
    Config c = new Config(n.id, cfg.electionTicks, cfg.heartbeatTicks, storage, applied, cfg.maxSizePerMsgBytes,
        cfg.maxCommittedSizePerReadyBytes, cfg.maxUncommittedEntriesSizeBytes, cfg.maxInflightMsgs, cfg.checkQuorum,
        cfg.preVote, cfg.readOnlyOption, false, random.split());
    n.raw = new RawNode(c);
    n.started = true;
    n.cursor = applied;
    n.crashPoint = SimNode.CrashPoint.NONE;
    n.restartAtStep = -1;
    Status st = n.raw.status();
    n.role = st.softState().raftState();
    n.lead = st.softState().lead();
    n.term = st.hardState().term();
    n.commit = st.hardState().commit();
    checker.onStart(n, st.hardState());
    drain(n);
  }

  // ---- Time ----

  /** One step: a global tick when due, then every message due is delivered. */
  public void step() {
    step++;
    guard(() -> {
      if (step % cfg.stepsPerTick == 0) {
        // Ticks are not traced: they would crowd everything else out of the trace, and each event
        // already carries its step.
        ticks++;
        for (SimNode n : nodes) {
          if (n != null && n.isUp()) {
            n.raw.tick();
            drain(n);
          }
        }
      }
      deliverDue();
      if (!pendingDecommissions.isEmpty() || !pendingRestarts.isEmpty()) {
        settleMembership();
      }
    });
    checker.afterStep(step);
  }

  public void runSteps(int n) {
    for (int i = 0; i < n; i++) {
      step();
    }
  }

  /** Runs until {@code n} more global ticks happened. */
  public void runTicks(int n) {
    long until = ticks + n;
    while (ticks < until) {
      step();
    }
  }

  /**
   * Runs until {@code done} holds, checking it after every step; fails with the trace when it does
   * not hold within {@code maxTicks} ticks.
   */
  public void runUntil(BooleanSupplier done, int maxTicks, String what) {
    long until = ticks + maxTicks;
    while (!done.getAsBoolean()) {
      if (ticks >= until) {
        throw failure(Property.LIVENESS, "not reached within " + maxTicks + " ticks: " + what, null);
      }
      step();
    }
  }

  private void deliverDue() {
    SimNetwork.InFlight f;
    while ((f = network.pollDue(step)) != null) {
      Message m = f.message();
      SimNode to = node(m.to());
      if (to == null || !to.isUp()) {
        dropped(f, "down");
      } else if (network.isCut(m.from(), m.to())) {
        dropped(f, "partition");
      } else if (network.lose()) {
        dropped(f, "lost");
      } else {
        if (worthTracing(m)) {
          events.add(step, EventLog.Kind.DELIVER, 0, m);
        }
        try {
          to.raw.step(m);
        } catch (RaftException.ProposalDropped e) {
          // A forwarded proposal the leader cannot take; the client would time out and retry.
          events.add(step, EventLog.Kind.PROPOSE_DROPPED, to.id, "forwarded");
        }
        drain(to);
        if (m.type() == MessageType.SNAP && !f.duplicate()) {
          reportSnapshot(f, false);
        }
      }
    }
  }

  /**
   * Plain heartbeats and their answers are most of the traffic of a quiet cluster and rarely the
   * story of a failure; leaving them out keeps more of what matters in the trace.
   */
  private static boolean worthTracing(Message m) {
    return !((m.type() == MessageType.HEARTBEAT || m.type() == MessageType.HEARTBEAT_RESP)
        && (m.context() == null || m.context().length == 0));
  }

  private void dropped(SimNetwork.InFlight f, String why) {
    Message m = f.message();
    if (worthTracing(m)) {
      events.add(step, EventLog.Kind.DROP, 0, why + " " + m);
    }
    if (m.type() == MessageType.SNAP && !f.duplicate()) {
      // The transport tells the leader a snapshot did not arrive, or it would wait for it forever.
      reportSnapshot(f, true);
    } else if ("partition".equals(why) && random.nextInt(8) == 0) {
      SimNode from = node(m.from());
      if (from != null && from.isUp() && from.incarnation == f.senderIncarnation()) {
        events.add(step, EventLog.Kind.REPORT, from.id, "unreachable " + m.to());
        from.raw.reportUnreachable(m.to());
        drain(from);
      }
    }
  }

  private void reportSnapshot(SimNetwork.InFlight f, boolean failed) {
    Message m = f.message();
    SimNode from = node(m.from());
    // Only the incarnation that sent it tracks the transfer.
    if (from != null && from.isUp() && from.incarnation == f.senderIncarnation()) {
      events.add(step, EventLog.Kind.REPORT, from.id, "snapshot to " + m.to() + (failed ? " failed" : " done"));
      from.raw.reportSnapshot(m.to(), failed);
      drain(from);
    }
  }

  // ---- Ready handling ----

  private void drain(SimNode n) {
    int rounds = 0;
    while (n.raw != null && n.raw.hasReady()) {
      if (++rounds > READY_ROUNDS_MAX) {
        throw failure(Property.READY_CONTRACT, "n" + n.id + " still has a Ready after " + READY_ROUNDS_MAX + " rounds", null);
      }
      handleReady(n, n.raw.ready());
    }
  }

  private void handleReady(SimNode n, Ready rd) {
    if (cfg.sendBeforePersist) {
      for (Message m : rd.messages()) {
        send(n, m);
      }
    }
    if (n.crashPoint == SimNode.CrashPoint.BEFORE_PERSIST) {
      crashNow(n);
      return;
    }
    // 1. Persist: snapshot, entries, hard state.
    HardState hs = rd.hardState();
    if (hs != null) {
      checker.onHardState(n, hs);
    }
    Snapshot snap = rd.snapshot();
    if (snap != null) {
      try {
        n.storage.applySnapshot(snap);
      } catch (RaftException.SnapOutOfDate e) {
        throw failure(Property.READY_CONTRACT, "n" + n.id + " Ready carries " + snap + " older than storage's "
            + n.storage.snapshot(), e);
      }
    }
    List<Entry> ents = rd.entries();
    if (!ents.isEmpty()) {
      long first = ents.get(0).index();
      checker.onEntries(n, ents, storageTermOrUnknown(n, first - 1), hs != null ? hs.term() : n.term);
      try {
        n.storage.append(ents);
      } catch (IllegalStateException e) {
        throw failure(Property.READY_CONTRACT, "n" + n.id + " Ready entries do not follow the stored log", e);
      }
    }
    if (hs != null) {
      n.storage.setHardState(hs);
      n.term = hs.term();
      n.commit = hs.commit();
    }
    if (rd.softState() != null) {
      StateType old = n.role;
      n.role = rd.softState().raftState();
      n.lead = rd.softState().lead();
      if (old != n.role) {
        events.add(step, EventLog.Kind.ROLE, n.id, n.role + " t" + n.term + " lead=" + n.lead);
      }
    }
    if (n.role == StateType.LEADER) {
      checker.onLeader(n, n.term);
    }
    if (n.crashPoint == SimNode.CrashPoint.AFTER_PERSIST) {
      crashNow(n);
      return;
    }
    // 2. Send.
    if (!cfg.sendBeforePersist) {
      for (Message m : rd.messages()) {
        send(n, m);
      }
    }
    if (n.crashPoint == SimNode.CrashPoint.AFTER_SEND) {
      crashNow(n);
      return;
    }
    // 3. Apply.
    if (snap != null) {
      restoreApp(n, snap, true);
    }
    List<Entry> committed = rd.committedEntries();
    int crashAfter = n.crashPoint == SimNode.CrashPoint.MID_APPLY ? random.nextInt(committed.size() + 1) : -1;
    for (int k = 0; k < committed.size(); k++) {
      if (k == crashAfter) {
        crashNow(n);
        return;
      }
      apply(n, committed.get(k));
      if (n.raw == null) {
        return;
      }
    }
    if (crashAfter == committed.size()) {
      crashNow(n);
      return;
    }
    for (ReadState rs : rd.readStates()) {
      events.add(step, EventLog.Kind.READ_STATE, n.id, rs.index());
      checker.onReadState(n, rs);
    }
    // 4. Done.
    n.raw.advance();
    maybeSnapshot(n);
  }

  private long storageTermOrUnknown(SimNode n, long i) {
    if (i < n.storage.firstIndex() - 1) {
      return SafetyChecker.UNKNOWN;
    }
    if (i > n.storage.lastIndex()) {
      throw failure(Property.READY_CONTRACT, "n" + n.id + " Ready entries start after " + i + " but storage ends at "
          + n.storage.lastIndex(), null);
    }
    return n.storage.term(i);
  }

  private void send(SimNode n, Message m) {
    n.sent[m.type().ordinal()]++;
    if (m.to() == n.id || m.type().isLocal()) {
      throw failure(Property.READY_CONTRACT, "n" + n.id + " Ready holds a message it cannot send: " + m, null);
    }
    if (!network.send(m, step, n.incarnation) && worthTracing(m)) {
      events.add(step, EventLog.Kind.DUPLICATE, n.id, m);
    }
  }

  private void restoreApp(SimNode n, Snapshot snap, boolean fromReady) {
    checker.onSnapshotRestore(n, snap);
    n.snapshotsInstalled++;
    snapshotsInstalled++;
    events.add(step, EventLog.Kind.SNAPSHOT_RESTORED, n.id, snap.index() + "/" + snap.term() + " "
        + SimNode.confString(snap.metadata().confState()));
    if (fromReady) {
      ConfState raftConf = n.raw.status().config();
      if (!raftConf.equals(snap.metadata().confState())) {
        throw failure(Property.CONFIG_DIVERGENCE, "n" + n.id + " installed a snapshot with " + SimNode.confString(
            snap.metadata().confState()) + " but raft's configuration is " + SimNode.confString(raftConf), null);
      }
    }
  }

  private void apply(SimNode n, Entry e) {
    boolean fresh = checker.onApply(n, e);
    if (e.type() != EntryType.CONF_CHANGE) {
      return;
    }
    ConfChange cc = ConfChange.decode(e.data());
    ConfState before = n.raw.status().config();
    // Also for re-delivered entries: raft's configuration is rebuilt by applying them again.
    ConfState after = n.raw.applyConfChange(cc);
    checker.onConfApplied(n, e.index(), after);
    if (fresh) {
      n.appConf = after;
      confChangesApplied++;
    }
    events.add(step, EventLog.Kind.CONF_CHANGE_APPLIED, n.id, e.index() + " " + describe(cc) + " -> "
        + SimNode.confString(after));
    // The first member to apply an entry speaks for all: they apply the same entries in order.
    if (e.index() > membershipSeenIndex) {
      membershipSeenIndex = e.index();
      onMembershipChanged(e.index(), before, after);
    }
  }

  /**
   * The operator's side of a membership change. A removed member is stopped for good, but only once
   * every voter of the new configuration applied its removal: until then a member still in the
   * joint configuration may need its vote (the removed leader's, say) to elect anyone. A member
   * added back after it was stopped (a delayed or stale proposal can do that) is started again from
   * its storage.
   */
  private void onMembershipChanged(long index, ConfState before, ConfState after) {
    for (SimNode x : nodes) {
      if (x == null || !x.started) {
        continue;
      }
      if (isMember(before, x.id) && !isMember(after, x.id)) {
        if (cfg.decommissionRemoved && !x.decommissioned) {
          List<Long> voters = new ArrayList<>(after.voters());
          voters.addAll(after.votersOutgoing());
          pendingDecommissions.add(new PendingDecommission(x.id, index, voters));
        }
      } else if (!isMember(before, x.id) && isMember(after, x.id)) {
        pendingDecommissions.removeIf(p -> p.id == x.id);
        if (x.decommissioned) {
          x.decommissioned = false;
          events.add(step, EventLog.Kind.NOTE, x.id, "added back at " + index + ", restarting");
          pendingRestarts.add(x.id);
        }
      }
    }
  }

  /** A removed member waiting for the voters of the configuration without it to apply that. */
  private record PendingDecommission(long id, long index, List<Long> voters) {}

  private void settleMembership() {
    for (int i = 0; i < pendingRestarts.size(); i++) {
      restart(pendingRestarts.get(i), false);
    }
    pendingRestarts.clear();
    pendingDecommissions.removeIf(p -> {
      for (long v : p.voters()) {
        SimNode n = node(v);
        if (n != null && !n.decommissioned && n.appApplied < p.index()) {
          return false;
        }
      }
      SimNode x = node(p.id());
      if (x != null && !x.decommissioned) {
        decommission(x);
      }
      return true;
    });
  }

  static boolean isMember(ConfState cs, long id) {
    return cs.voters().contains(id) || cs.votersOutgoing().contains(id) || cs.learners().contains(id)
        || cs.learnersNext().contains(id);
  }

  static String describe(ConfChange cc) {
    if (cc.isLeaveJoint()) {
      return "leave-joint";
    }
    StringBuilder sb = new StringBuilder();
    if (cc.transition() != io.kvorum.raft.ConfChangeTransition.AUTO) {
      sb.append(cc.transition()).append(' ');
    }
    cc.changes().forEach(c -> sb.append(c.type()).append(':').append(c.nodeId()).append(' '));
    return sb.toString().trim();
  }

  private void maybeSnapshot(SimNode n) {
    if (cfg.snapshotEveryEntries <= 0 || n.raw == null) {
      return;
    }
    // Raft may still re-deliver entries up to the app's applied index after a restart; compacting
    // them away would leave it unable to.
    if (n.appApplied - n.storage.snapshot().index() >= cfg.snapshotEveryEntries && n.cursor >= n.appApplied) {
      snapshotAndCompact(n, random.nextInt(cfg.compactKeepEntriesMax + 1));
    }
  }

  private void snapshotAndCompact(SimNode n, int keepEntries) {
    if (n.appApplied <= n.storage.snapshot().index()) {
      return;
    }
    n.storage.createSnapshot(n.appApplied, n.appConf, snapshotData(n.appApplied, n.appChain));
    long compactTo = n.appApplied - keepEntries;
    if (compactTo >= n.storage.firstIndex()) {
      n.storage.compact(compactTo);
    }
    events.add(step, EventLog.Kind.SNAPSHOT_CREATED, n.id, n.appApplied + " log from " + n.storage.firstIndex());
  }

  /** The application state in a snapshot: {@code u64 index, u64 chain}. */
  static byte[] snapshotData(long index, long chain) {
    return ByteBuffer.allocate(16).putLong(index).putLong(chain).array();
  }

  // ---- Crashes and membership of the simulation ----

  private void crashNow(SimNode n) {
    n.raw = null;
    n.incarnation++;
    n.crashPoint = SimNode.CrashPoint.NONE;
    n.crashedAtStep = step;
    n.role = StateType.FOLLOWER;
    crashes++;
    events.add(step, EventLog.Kind.CRASH, n.id, null);
  }

  /** Crashes {@code id} now. */
  public void crash(long id) {
    crash(id, SimNode.CrashPoint.NONE);
  }

  /** Crashes {@code id} now, or at the given point of handling its next Ready. */
  public void crash(long id, SimNode.CrashPoint at) {
    SimNode n = node(id);
    if (n == null || !n.isUp()) {
      return;
    }
    if (at == SimNode.CrashPoint.NONE) {
      crashNow(n);
    } else {
      n.crashPoint = at;
      events.add(step, EventLog.Kind.NOTE, id, "crash armed " + at);
    }
  }

  /** Restarts {@code id} from its storage with the application's applied index. */
  public void restart(long id) {
    restart(id, false);
  }

  /**
   * Restarts {@code id} from what its storage holds. With {@code fromSnapshotIndex} raft is told only
   * the storage snapshot's index as applied (as etcd's server does), re-delivers the committed
   * entries after it, and the application skips the ones it has, re-applying only conf changes to
   * raft; otherwise raft is told the application's applied index.
   */
  public void restart(long id, boolean fromSnapshotIndex) {
    SimNode n = node(id);
    if (n == null || n.isUp() || !n.started || n.decommissioned) {
      return;
    }
    guard(() -> {
      if (cfg.forgetVoteOnRestart) {
        HardState hs = n.storage.hardState();
        n.storage.setHardState(new HardState(hs.term(), 0, hs.commit()));
      }
      Snapshot snap = n.storage.snapshot();
      if (snap.index() > n.appApplied) {
        // It crashed after persisting a snapshot and before applying it: recover the app from it.
        restoreApp(n, snap, false);
      }
      long applied = fromSnapshotIndex ? snap.index() : n.appApplied;
      events.add(step, EventLog.Kind.RESTART, id, "applied=" + applied + (fromSnapshotIndex ? " (snapshot index)" : ""));
      startRaw(n, applied);
      if (n.raw != null && !fromSnapshotIndex) {
        ConfState raftConf = n.raw.status().config();
        if (!raftConf.equals(n.appConf)) {
          throw failure(Property.CONFIG_DIVERGENCE, "n" + id + " restarted with applied=" + applied + " has configuration "
              + SimNode.confString(raftConf) + " but the application applied " + SimNode.confString(n.appConf), null);
        }
      }
    });
  }

  /** Stops {@code n} for good: it was removed from the configuration. */
  public void decommission(SimNode n) {
    n.raw = null;
    n.decommissioned = true;
    n.incarnation++;
    n.role = StateType.FOLLOWER;
    events.add(step, EventLog.Kind.DECOMMISSION, n.id, null);
  }

  /** Whether another member can still be added (ids are never reused). */
  public boolean canAddNode() {
    return nextNodeId <= nodeIdMax;
  }

  /**
   * Starts a new member with empty storage, as an operator does before proposing to add it; it
   * learns everything from the leader, starting with a snapshot. Returns its id.
   */
  public long startNewNode() {
    if (!canAddNode()) {
      throw new IllegalStateException("no node ids left (max " + nodeIdMax + ")");
    }
    long id = nextNodeId++;
    SimNode n = new SimNode(id);
    nodes[(int) id] = n;
    events.add(step, EventLog.Kind.START, id, "empty");
    guard(() -> startRaw(n, 0));
    return id;
  }

  // ---- Client actions ----

  /** A fresh payload id; proposals carry it so the harness can find where it was applied. */
  public long nextPayload() {
    return nextPayload++;
  }

  static byte[] payload(long id, int paddingBytes) {
    ByteBuffer b = ByteBuffer.allocate(9 + paddingBytes);
    b.put(PAYLOAD_TAG).putLong(id);
    return b.array();
  }

  /** The payload id an entry carries, or 0 for no-ops and conf changes. */
  static long payloadId(Entry e) {
    byte[] d = e.data();
    if (e.type() != EntryType.NORMAL || d.length < 9 || d[0] != PAYLOAD_TAG) {
      return 0;
    }
    return ByteBuffer.wrap(d, 1, 8).getLong();
  }

  /** Proposes a new payload on {@code id}; returns its payload id, or 0 when dropped locally. */
  public long propose(long id) {
    long pid = nextPayload();
    return propose(id, pid, 0) ? pid : 0;
  }

  /** Proposes payload {@code pid} on {@code id}; false when raft dropped it locally. */
  public boolean propose(long id, long pid, int paddingBytes) {
    SimNode n = node(id);
    if (n == null || !n.isUp()) {
      return false;
    }
    boolean[] ok = {true};
    guard(() -> {
      try {
        n.raw.propose(payload(pid, paddingBytes));
        events.add(step, EventLog.Kind.PROPOSE, id, pid);
      } catch (RaftException.ProposalDropped e) {
        events.add(step, EventLog.Kind.PROPOSE_DROPPED, id, pid);
        ok[0] = false;
      }
      drain(n);
    });
    return ok[0];
  }

  /** Proposes a membership change on {@code id}; false when raft dropped it locally. */
  public boolean proposeConfChange(long id, ConfChange cc) {
    SimNode n = node(id);
    if (n == null || !n.isUp()) {
      return false;
    }
    boolean[] ok = {true};
    guard(() -> {
      try {
        n.raw.proposeConfChange(cc);
        events.add(step, EventLog.Kind.CONF_CHANGE_PROPOSED, id, describe(cc));
      } catch (RaftException.ProposalDropped e) {
        events.add(step, EventLog.Kind.PROPOSE_DROPPED, id, describe(cc));
        ok[0] = false;
      }
      drain(n);
    });
    return ok[0];
  }

  /** Asks {@code id} for a read index; returns the request id to look the answer up with. */
  public long readIndex(long id) {
    SimNode n = node(id);
    if (n == null || !n.isUp()) {
      return 0;
    }
    long rid = nextRead++;
    checker.onReadRequest(n, rid);
    events.add(step, EventLog.Kind.READ_INDEX, id, "read " + rid + " min=" + checker.committedMax());
    guard(() -> {
      try {
        n.raw.readIndex(ByteBuffer.allocate(8).putLong(rid).array());
      } catch (RaftException.ProposalDropped e) {
        events.add(step, EventLog.Kind.PROPOSE_DROPPED, id, "read " + rid);
      }
      drain(n);
    });
    return rid;
  }

  /** The read index {@code readId} was answered with, or -1 while unanswered. */
  public long readAnswer(long readId) {
    return checker.readAnswer(readId);
  }

  public void campaign(long id) {
    SimNode n = node(id);
    if (n == null || !n.isUp()) {
      return;
    }
    events.add(step, EventLog.Kind.CAMPAIGN, id, null);
    guard(() -> {
      n.raw.campaign();
      drain(n);
    });
  }

  public void transferLeader(long id, long target) {
    SimNode n = node(id);
    if (n == null || !n.isUp()) {
      return;
    }
    events.add(step, EventLog.Kind.TRANSFER, id, "to " + target);
    guard(() -> {
      n.raw.transferLeader(target);
      drain(n);
    });
  }

  /** Makes {@code id}'s application snapshot its state now and compacts its log, keeping some entries. */
  public void snapshotAndCompact(long id, int keepEntries) {
    SimNode n = node(id);
    if (n != null && n.isUp()) {
      snapshotAndCompact(n, keepEntries);
    }
  }

  // ---- Views ----

  public SimNode node(long id) {
    return id > 0 && id <= nodeIdMax ? nodes[(int) id] : null;
  }

  /** Members by id (index 0 and ids never started are null); do not modify. */
  SimNode[] nodesById() {
    return nodes;
  }

  /** Every member ever started, in id order. */
  public List<SimNode> nodes() {
    List<SimNode> out = new ArrayList<>();
    for (SimNode n : nodes) {
      if (n != null && n.started) {
        out.add(n);
      }
    }
    return out;
  }

  /** The running leader of the highest term, or null. */
  public SimNode leaderNode() {
    SimNode best = null;
    for (SimNode n : nodes) {
      if (n != null && n.isLeader() && (best == null || n.term > best.term)) {
        best = n;
      }
    }
    return best;
  }

  /** The id of {@link #leaderNode()}, or 0. */
  public long leader() {
    SimNode l = leaderNode();
    return l == null ? 0 : l.id;
  }

  /** Where payload {@code pid} was first applied, or 0 if nowhere yet. */
  public long payloadIndex(long pid) {
    return checker.payloadIndex(pid);
  }

  /** Whether every listed member applied payload {@code pid}. */
  public boolean appliedOn(long pid, long... ids) {
    long at = checker.payloadIndex(pid);
    if (at == 0) {
      return false;
    }
    for (long id : ids) {
      SimNode n = node(id);
      if (n == null || n.appApplied < at) {
        return false;
      }
    }
    return true;
  }

  public SimNetwork network() {
    return network;
  }

  public SafetyChecker checker() {
    return checker;
  }

  public long stepNo() {
    return step;
  }

  public long ticks() {
    return ticks;
  }

  long crashes() {
    return crashes;
  }

  long confChangesApplied() {
    return confChangesApplied;
  }

  long snapshotsInstalled() {
    return snapshotsInstalled;
  }

  SplittableRandom random() {
    return random;
  }

  // ---- Failures ----

  /** Runs a call into raft, turning anything it throws into a failure that names the seed. */
  private void guard(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      throw failure(Property.CORE_EXCEPTION, e.toString(), e);
    }
  }

  /** The failure every check throws: seed first, then step, property, the cluster and the trace. */
  public AssertionError failure(Property p, String detail, Throwable cause) {
    AssertionError e = new AssertionError("seed=" + seed + " step=" + step + " tick=" + ticks + " " + p.text() + ": "
        + detail + "\n" + describe() + "recent events (oldest first):\n" + events.render(), cause);
    return e;
  }

  /** The configuration and every member, one a line. */
  public String describe() {
    StringBuilder sb = new StringBuilder("config: ").append(cfg.summary()).append('\n');
    sb.append("partitions:").append(network.describeCuts()).append(", in flight ").append(network.inFlight()).append('\n');
    for (SimNode n : nodes) {
      if (n != null) {
        sb.append("  ").append(n).append('\n');
      }
    }
    return sb.toString();
  }
}
