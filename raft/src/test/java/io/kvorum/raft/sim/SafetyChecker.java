package io.kvorum.raft.sim;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.HardState;
import io.kvorum.raft.InternalRaftAccess;
import io.kvorum.raft.ReadOnlyOption;
import io.kvorum.raft.ReadState;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.StateType;
import io.kvorum.raft.Status;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks raft's safety properties against everything a {@link SimCluster} observes. The cluster
 * calls in as it handles each member's Ready (the only way state leaves raft), so most checks are
 * incremental: a global table of facts, each entry or commit compared once against it.
 *
 * <ul>
 *   <li>Election safety: at most one leader per term ({@code term -> leader}).
 *   <li>Log matching: an (index, term) names one entry, and the entry before it always has the
 *       same term; by induction two logs holding the same (index, term) agree up to it. A periodic
 *       walk over every member's retained log re-checks this against the table.
 *   <li>Leader completeness: an entry known committed (at most some member's commit index, read
 *       from that member's log) is in the log of every leader of a later term, where not compacted.
 *       The term the entry was committed in is bounded from above by the observing member's term,
 *       which keeps the check sound when a stale leader learns of a commit late.
 *   <li>State machine safety: no two members apply different entries at one index, and a member's
 *       hash chain (its whole applied history) matches everybody else's at each index, snapshots
 *       included.
 *   <li>A member's applied index never goes back, also across restarts; raft hands committed
 *       entries out contiguously.
 *   <li>ReadIndex: the answered index is at least the highest index any member had committed when
 *       the read was asked (so it sees every write completed before it began).
 *   <li>Hard state: term and commit never go back; a member never changes its vote within a term.
 * </ul>
 */
public final class SafetyChecker {
  /** The prev-term of an entry whose predecessor is compacted away. */
  static final long UNKNOWN = -1;
  /** How often (in steps) to walk every retained log and ask every member for its status. */
  private static final int FULL_CHECK_EVERY_STEPS = 64;

  private final SimCluster cluster;
  private final SimConfig cfg;

  // Election safety.
  private final LongArray leaderOfTerm = new LongArray();
  private final long[] leaderCheckedTerm;

  // Log matching: (index, term) -> {content hash, term of the entry before}.
  private final Map<Long, long[]> entries = new HashMap<>();

  // Commitment.
  private final LongArray committedTerm = new LongArray();
  private final LongArray committedInTermAtMost = new LongArray();
  private long committedMax;

  // Application.
  private final LongArray appliedTerm = new LongArray();
  private final LongArray appliedHash = new LongArray();
  private final LongArray chainAt = new LongArray();
  private final TreeMap<Long, ConfState> configAt = new TreeMap<>();
  private final Map<Long, Long> payloadIndex = new HashMap<>();

  // Per member, by id: what it persisted last, which survives its crashes.
  private final long[] lastTerm;
  private final long[] lastVote;
  private final long[] lastCommit;

  // ReadIndex.
  private final Map<Long, ReadRequest> reads = new HashMap<>();
  private long readsAnswered;
  private long leaseReadsBehind;
  private long leadersElected;

  /** A ReadIndex request: who asked, and the committed index every answer must reach. */
  static final class ReadRequest {
    final long node;
    final long minIndex;
    final long step;
    long answeredIndex = -1;

    ReadRequest(long node, long minIndex, long step) {
      this.node = node;
      this.minIndex = minIndex;
      this.step = step;
    }
  }

  SafetyChecker(SimCluster cluster, SimConfig cfg, int nodeIdMax) {
    this.cluster = cluster;
    this.cfg = cfg;
    leaderCheckedTerm = new long[nodeIdMax + 1];
    lastTerm = new long[nodeIdMax + 1];
    lastVote = new long[nodeIdMax + 1];
    lastCommit = new long[nodeIdMax + 1];
  }

  /** Records the bootstrap snapshot at {@code index} as committed and applied everywhere. */
  void bootstrap(long index, long term, long chain, ConfState cs) {
    committedTerm.set(index, term);
    committedInTermAtMost.set(index, term);
    committedMax = index;
    appliedTerm.set(index, term);
    appliedHash.set(index, 0);
    chainAt.set(index, chain);
    configAt.put(index, cs);
  }

  /** A member (re)started from storage holding {@code hs}. */
  void onStart(SimNode n, HardState hs) {
    int i = (int) n.id;
    if (hs.term() < lastTerm[i] || hs.commit() < lastCommit[i]) {
      throw violation(Property.HARD_STATE_WENT_BACK, "n" + n.id + " restarted with " + hs + " after persisting term "
          + lastTerm[i] + " commit " + lastCommit[i]);
    }
    lastTerm[i] = hs.term();
    lastCommit[i] = hs.commit();
    if (lastVote[i] == 0 || !cfg.checkVotes) {
      lastVote[i] = hs.vote();
    }
  }

  // ---- Ready contents ----

  void onHardState(SimNode n, HardState hs) {
    int i = (int) n.id;
    if (hs.term() < lastTerm[i]) {
      throw violation(Property.HARD_STATE_WENT_BACK, "n" + n.id + " term went back from " + lastTerm[i] + " to " + hs.term());
    }
    if (hs.commit() < lastCommit[i]) {
      throw violation(Property.HARD_STATE_WENT_BACK, "n" + n.id + " commit went back from " + lastCommit[i] + " to " + hs.commit());
    }
    boolean sameTerm = hs.term() == lastTerm[i];
    if (sameTerm && cfg.checkVotes && lastVote[i] != 0 && hs.vote() != 0 && hs.vote() != lastVote[i]) {
      throw violation(Property.DOUBLE_VOTE, "n" + n.id + " voted for " + lastVote[i] + " in term " + hs.term()
          + " and now for " + hs.vote());
    }
    long oldCommit = lastCommit[i];
    // A vote that disappears within a term (broken storage) is remembered, so that a second vote
    // in that term is still caught.
    if (!sameTerm || hs.vote() != 0 || !cfg.checkVotes) {
      lastVote[i] = hs.vote();
    }
    lastTerm[i] = hs.term();
    lastCommit[i] = hs.commit();
    if (hs.commit() > oldCommit) {
      onCommitAdvance(n, oldCommit, hs.commit(), hs.term());
    }
  }

  private void onCommitAdvance(SimNode n, long from, long to, long term) {
    RawNode raw = n.raw;
    if (to > InternalRaftAccess.lastIndex(raw)) {
      throw violation(Property.COMMITTED_ENTRY_CHANGED, "n" + n.id + " commit " + to + " is past its last index "
          + InternalRaftAccess.lastIndex(raw));
    }
    long start = Math.max(from + 1, InternalRaftAccess.firstIndex(raw) - 1);
    for (long i = start; i <= to; i++) {
      long t = InternalRaftAccess.termOrZero(raw, i);
      if (t == 0) {
        continue;
      }
      long known = committedTerm.get(i);
      if (known == LongArray.UNSET) {
        committedTerm.set(i, t);
        committedInTermAtMost.set(i, term);
        checkCurrentLeadersHold(i, term);
      } else if (known != t) {
        throw violation(Property.COMMITTED_ENTRY_CHANGED, "n" + n.id + " committed index " + i + " with term " + t
            + " but it was committed with term " + known + " before");
      }
    }
    committedMax = Math.max(committedMax, to);
  }

  /** A newly known committed entry must already be in every current leader of a later term. */
  private void checkCurrentLeadersHold(long index, long committedBy) {
    for (SimNode l : cluster.nodesById()) {
      if (l != null && l.isLeader() && l.term > committedBy) {
        checkHolds(l, l.term, index);
      }
    }
  }

  private void checkHolds(SimNode l, long leaderTerm, long i) {
    RawNode raw = l.raw;
    if (i < InternalRaftAccess.firstIndex(raw)) {
      return;
    }
    long last = InternalRaftAccess.lastIndex(raw);
    long want = committedTerm.get(i);
    long have = i > last ? 0 : InternalRaftAccess.termOrZero(raw, i);
    if (have != want) {
      throw violation(Property.LEADER_COMPLETENESS, "leader n" + l.id + " of term " + leaderTerm + " has "
          + (i > last ? "no entry" : "term " + have) + " at index " + i + " (last index " + last
          + ") but term " + want + " was committed there in term <= " + committedInTermAtMost.get(i));
    }
  }

  /** {@code n} is the leader of {@code term}. */
  void onLeader(SimNode n, long term) {
    long prev = leaderOfTerm.get(term);
    if (prev == LongArray.UNSET) {
      leaderOfTerm.set(term, n.id);
      leadersElected++;
    } else if (prev != n.id) {
      throw violation(Property.TWO_LEADERS, "term " + term + " has leaders n" + prev + " and n" + n.id);
    }
    int i = (int) n.id;
    if (leaderCheckedTerm[i] != term) {
      leaderCheckedTerm[i] = term;
      long first = Math.max(1, InternalRaftAccess.firstIndex(n.raw));
      for (long idx = first; idx <= committedMax; idx++) {
        long bound = committedInTermAtMost.get(idx);
        if (bound != LongArray.UNSET && bound < term) {
          checkHolds(n, term, idx);
        }
      }
    }
  }

  /**
   * Entries {@code n} is about to persist; {@code prevTerm} is the term of the entry before the first
   * one in its storage ({@link #UNKNOWN} when compacted).
   */
  void onEntries(SimNode n, List<Entry> es, long prevTerm, long currentTerm) {
    long prevIndex = es.get(0).index() - 1;
    long pt = prevTerm;
    for (Entry e : es) {
      if (e.index() != prevIndex + 1) {
        throw violation(Property.LOG_MATCHING, "n" + n.id + " got non-contiguous entries: " + e.index() + " after " + prevIndex);
      }
      if (e.term() > currentTerm) {
        throw violation(Property.LOG_MATCHING, "n" + n.id + " at term " + currentTerm + " persists " + e);
      }
      if (pt != UNKNOWN && e.term() < pt) {
        throw violation(Property.LOG_MATCHING, "n" + n.id + " log term goes down at index " + e.index() + ": " + e.term()
            + " after " + pt);
      }
      record(n, e, hash(e), pt);
      prevIndex = e.index();
      pt = e.term();
    }
  }

  private void record(SimNode n, Entry e, long h, long pt) {
    long key = key(e.index(), e.term());
    long[] rec = entries.get(key);
    if (rec == null) {
      entries.put(key, new long[] {h, pt});
      return;
    }
    if (rec[0] != h) {
      throw violation(Property.LOG_MATCHING, "n" + n.id + " holds " + e + " but another entry with index " + e.index()
          + " and term " + e.term() + " exists");
    }
    if (pt != UNKNOWN) {
      if (rec[1] == UNKNOWN) {
        rec[1] = pt;
      } else if (rec[1] != pt) {
        throw violation(Property.LOG_MATCHING, "entry " + e.index() + "/" + e.term() + " follows term " + pt + " on n"
            + n.id + " but term " + rec[1] + " elsewhere");
      }
    }
  }

  /**
   * {@code n}'s application was handed committed entry {@code e}. Returns true when the application
   * applies it, false when it already had (raft re-delivers after a restart from an older applied
   * index).
   */
  boolean onApply(SimNode n, Entry e) {
    long i = e.index();
    if (i != n.cursor + 1) {
      throw violation(Property.APPLIED_WENT_BACK, "n" + n.id + " was handed committed index " + i + " after "
          + n.cursor + " (applied " + n.appApplied + ")");
    }
    n.cursor = i;
    if (i > committedMax) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " applies index " + i + " but the highest commit is "
          + committedMax);
    }
    long h = hash(e);
    long known = appliedTerm.get(i);
    if (known != LongArray.UNSET && (known != e.term() || appliedHash.get(i) != h)) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " applies " + e + " at index " + i
          + " but term " + known + " (hash " + Long.toHexString(appliedHash.get(i)) + ") was applied there");
    }
    long ct = committedTerm.get(i);
    if (ct != LongArray.UNSET && ct != e.term()) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " applies " + e + " but term " + ct
          + " was committed at index " + i);
    }
    if (i <= n.appApplied) {
      return false;
    }
    if (known == LongArray.UNSET) {
      appliedTerm.set(i, e.term());
      appliedHash.set(i, h);
      long pid = SimCluster.payloadId(e);
      if (pid != 0) {
        payloadIndex.putIfAbsent(pid, i);
      }
    }
    long chain = mix(n.appChain ^ (h + e.term() * 0x9E3779B97F4A7C15L));
    long knownChain = chainAt.get(i);
    if (knownChain == LongArray.UNSET) {
      chainAt.set(i, chain);
    } else if (knownChain != chain) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " applied history differs from another member's before index "
          + i);
    }
    n.appChain = chain;
    n.appApplied = i;
    return true;
  }

  /** The configuration {@code n} got by applying the conf change at {@code index}. */
  void onConfApplied(SimNode n, long index, ConfState cs) {
    ConfState known = configAt.get(index);
    if (known == null) {
      configAt.put(index, cs);
    } else if (!known.equals(cs)) {
      throw violation(Property.CONFIG_DIVERGENCE, "n" + n.id + " has " + SimNode.confString(cs) + " after index " + index
          + " where another member has " + SimNode.confString(known));
    }
  }

  /** The configuration in force after applying index {@code i}. */
  ConfState configAt(long i) {
    Map.Entry<Long, ConfState> e = configAt.floorEntry(i);
    return e == null ? ConfState.EMPTY : e.getValue();
  }

  /** {@code n}'s application restores {@code snap}. */
  void onSnapshotRestore(SimNode n, Snapshot snap) {
    long idx = snap.index();
    if (idx <= n.appApplied) {
      throw violation(Property.APPLIED_WENT_BACK, "n" + n.id + " got a snapshot at " + idx + " with applied index "
          + n.appApplied);
    }
    ByteBuffer b = ByteBuffer.wrap(snap.data());
    long dataIndex = b.getLong();
    long chain = b.getLong();
    if (dataIndex != idx) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " got snapshot metadata index " + idx
          + " for application state at " + dataIndex);
    }
    long knownChain = chainAt.get(idx);
    if (knownChain != chain) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " restores a snapshot at " + idx
          + " whose history is not the one applied there");
    }
    long ct = committedTerm.get(idx);
    if (ct != LongArray.UNSET && ct != snap.term()) {
      throw violation(Property.STATE_MACHINE_SAFETY, "n" + n.id + " restores a snapshot at " + idx + "/" + snap.term()
          + " but term " + ct + " was committed there");
    }
    ConfState want = configAt(idx);
    if (!want.equals(snap.metadata().confState())) {
      throw violation(Property.CONFIG_DIVERGENCE, "n" + n.id + " restores a snapshot at " + idx + " with configuration "
          + SimNode.confString(snap.metadata().confState()) + " but " + SimNode.confString(want) + " was in force there");
    }
    n.appApplied = idx;
    n.appChain = chain;
    n.appConf = snap.metadata().confState();
    n.cursor = idx;
  }

  // ---- ReadIndex ----

  void onReadRequest(SimNode n, long readId) {
    reads.put(readId, new ReadRequest(n.id, committedMax, cluster.stepNo()));
  }

  void onReadState(SimNode n, ReadState rs) {
    byte[] ctx = rs.requestCtx();
    if (ctx == null || ctx.length != 8) {
      throw violation(Property.STALE_READ, "n" + n.id + " got a read state with a foreign context " + rs);
    }
    long id = ByteBuffer.wrap(ctx).getLong();
    ReadRequest r = reads.get(id);
    if (r == null || r.node != n.id) {
      throw violation(Property.STALE_READ, "n" + n.id + " got an answer to read " + id + " it did not ask"
          + (r == null ? "" : " (n" + r.node + " did)"));
    }
    if (rs.index() > committedMax) {
      throw violation(Property.STALE_READ, "n" + n.id + " read " + id + " answered with index " + rs.index()
          + " that no member committed (highest " + committedMax + ")");
    }
    if (rs.index() < r.minIndex) {
      if (cfg.readOnlyOption == ReadOnlyOption.LEASE_BASED && !cfg.checkLeaseReads) {
        leaseReadsBehind++;
      } else {
        throw violation(Property.STALE_READ, "read " + id + " asked on n" + r.node + " at step " + r.step + " when index "
            + r.minIndex + " was committed, answered with read index " + rs.index());
      }
    }
    if (r.answeredIndex < 0) {
      r.answeredIndex = rs.index();
      readsAnswered++;
    }
  }

  /** The index a read was answered with, or -1 while unanswered. */
  long readAnswer(long readId) {
    ReadRequest r = reads.get(readId);
    return r == null ? -1 : r.answeredIndex;
  }

  long readsAnswered() {
    return readsAnswered;
  }

  long leaseReadsBehind() {
    return leaseReadsBehind;
  }

  long committedMax() {
    return committedMax;
  }

  /** The index where the payload was first applied, or 0. */
  long payloadIndex(long payloadId) {
    Long i = payloadIndex.get(payloadId);
    return i == null ? 0 : i;
  }

  /** How many terms had a leader. */
  long leadersElected() {
    return leadersElected;
  }

  // ---- Periodic ----

  void afterStep(long step) {
    if (step % FULL_CHECK_EVERY_STEPS != 0) {
      return;
    }
    for (SimNode n : cluster.nodesById()) {
      if (n == null || !n.isUp()) {
        continue;
      }
      Status st = n.raw.status();
      StateType role = st.softState().raftState();
      if (role != n.role || st.hardState().term() != n.term) {
        throw violation(Property.READY_CONTRACT, "n" + n.id + " is " + role + " at term " + st.hardState().term()
            + " but its Readys said " + n.role + " at term " + n.term);
      }
      if (role == StateType.LEADER) {
        onLeader(n, st.hardState().term());
      }
      walkLog(n);
    }
  }

  /** Re-checks {@code n}'s whole retained log against the global entry table. */
  private void walkLog(SimNode n) {
    RawNode raw = n.raw;
    long first = InternalRaftAccess.firstIndex(raw);
    long last = InternalRaftAccess.lastIndex(raw);
    if (last < first) {
      return;
    }
    long pt = InternalRaftAccess.termOrZero(raw, first - 1);
    if (pt == 0) {
      pt = UNKNOWN;
    }
    long commit = InternalRaftAccess.committed(raw);
    long prevIndex = first - 1;
    for (Entry e : InternalRaftAccess.entries(raw, first, last + 1)) {
      if (e.index() != prevIndex + 1) {
        throw violation(Property.LOG_MATCHING, "n" + n.id + " log has " + e.index() + " after " + prevIndex);
      }
      long[] rec = entries.get(key(e.index(), e.term()));
      if (rec != null) {
        if (rec[0] != hash(e)) {
          throw violation(Property.LOG_MATCHING, "n" + n.id + " log holds " + e + " which differs from the entry persisted"
              + " with that index and term");
        }
        if (pt != UNKNOWN && rec[1] != UNKNOWN && rec[1] != pt) {
          throw violation(Property.LOG_MATCHING, "n" + n.id + " log has " + e.index() + "/" + e.term() + " after term "
              + pt + " but term " + rec[1] + " elsewhere");
        }
      }
      if (e.index() <= commit) {
        long ct = committedTerm.get(e.index());
        if (ct != LongArray.UNSET && ct != e.term()) {
          throw violation(Property.COMMITTED_ENTRY_CHANGED, "n" + n.id + " log has term " + e.term() + " at committed index "
              + e.index() + " where term " + ct + " was committed");
        }
      }
      prevIndex = e.index();
      pt = e.term();
    }
  }

  // ---- Failures ----

  AssertionError violation(Property p, String detail) {
    return cluster.failure(p, detail, null);
  }

  // ---- Hashing ----

  static long key(long index, long term) {
    if (term >= (1L << 24) || index >= (1L << 39)) {
      throw new IllegalStateException("index/term out of the checker's range: " + index + "/" + term);
    }
    return index << 24 | term;
  }

  static long hash(Entry e) {
    long h = 0xcbf29ce484222325L ^ e.type().ordinal();
    for (byte b : e.data()) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return mix(h);
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
