package io.kvorum.server.etcdserver;

import io.kvorum.proto.serverpb.MemberChange;
import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.HardState;
import io.kvorum.raft.MemoryStorage;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --force-new-cluster}: disaster recovery from one surviving member (etcd's
 * {@code restartAsStandaloneNode}). On a restart, the log's uncommitted tail is dropped and
 * configuration changes that remove every other member are appended and marked committed, so the
 * member applies them as soon as it starts: raft's configuration shrinks to this member alone,
 * which then elects itself and serves its data. The cluster id and the data stay.
 *
 * <p>"Committed" is the larger of the persisted commit index and the backend's applied index: an
 * entry is applied once durable and committed, possibly before the hard state recording its commit
 * was written, and the forced changes must come after everything the backend holds (or the applier
 * would take them for replays).
 *
 * <p>The changes are ordinary membership changes, applied through {@link MemberApplier} as any
 * other: the membership in the backend and the peer transport follow them. A learner forcing a
 * new cluster is first promoted (raft needs one voter), as etcd adds itself when it is not a voter.
 */
final class StandaloneRestart {
  private static final Logger LOG = LoggerFactory.getLogger(StandaloneRestart.class);

  private StandaloneRestart() {}

  /** Rewrites {@code storage}'s log so that member {@code self} is the only member once it is applied. */
  static void forceOneMember(RaftStorage storage, long self, long clusterId, long appliedIndex) throws IOException {
    MemoryStorage mem = storage.memory();
    HardState hs = mem.hardState();
    long commit = Math.min(Math.max(hs.commit(), appliedIndex), mem.lastIndex());
    ConfState cs = mem.snapshot().metadata().confState();
    List<Entry> committed = commit >= mem.firstIndex()
        ? mem.entries(mem.firstIndex(), commit + 1, Long.MAX_VALUE) : List.of();
    TreeSet<Long> voters = new TreeSet<>(cs.voters());
    voters.addAll(cs.votersOutgoing());
    TreeSet<Long> learners = new TreeSet<>(cs.learners());
    learners.addAll(cs.learnersNext());
    for (Entry e : committed) {
      if (e.type() != EntryType.CONF_CHANGE) {
        continue;
      }
      for (ConfChangeSingle c : ConfChange.decode(e.data()).changes()) {
        switch (c.type()) {
          case ADD_NODE -> {
            learners.remove(c.nodeId());
            voters.add(c.nodeId());
          }
          case ADD_LEARNER_NODE -> {
            voters.remove(c.nodeId());
            learners.add(c.nodeId());
          }
          case REMOVE_NODE -> {
            voters.remove(c.nodeId());
            learners.remove(c.nodeId());
          }
          case UPDATE_NODE -> {
            // The peer URLs change; the member stays.
          }
        }
      }
    }
    if (!voters.contains(self) && !learners.contains(self)) {
      throw new IOException("cannot force a new cluster: member " + Long.toHexString(self)
          + " is not in its own raft configuration");
    }
    List<Entry> forced = new ArrayList<>();
    long term = hs.term();
    long next = commit + 1;
    // Raft must never be left without a voter: this member first, then the others go.
    if (!voters.contains(self)) {
      MemberChange.Builder ch = MemberChange.newBuilder().setMemberId(self).setIsPromote(true);
      forced.add(confChange(term, next++, io.kvorum.raft.ConfChangeType.ADD_NODE, self, ch));
    }
    TreeSet<Long> others = new TreeSet<>(voters);
    others.addAll(learners);
    others.remove(self);
    for (long id : others) {
      forced.add(confChange(term, next++, io.kvorum.raft.ConfChangeType.REMOVE_NODE, id,
          MemberChange.newBuilder().setMemberId(id)));
    }
    if (forced.isEmpty()) {
      // Already a one-member cluster: nothing to commit; like etcd, the WAL keeps its tail.
      LOG.info("forcing restart member (cluster-id {}, local-member-id {}): already the only member",
          Long.toHexString(clusterId), Long.toHexString(self));
      return;
    }
    long newCommit = next - 1;
    if (mem.lastIndex() > commit) {
      LOG.info("discarding uncommitted WAL entries (entry-index {}, commit-index-from-wal {}, "
          + "number-of-discarded-entries {})", commit + 1, hs.commit(), mem.lastIndex() - commit);
    }
    storage.save(new HardState(term, hs.vote(), newCommit), forced, true);
    LOG.info("forcing restart member (cluster-id {}, local-member-id {}, commit-index {}): removing {} other "
        + "member(s)", Long.toHexString(clusterId), Long.toHexString(self), newCommit, others.size());
  }

  private static Entry confChange(long term, long index, io.kvorum.raft.ConfChangeType type, long id,
      MemberChange.Builder ch) {
    ConfChange cc = new ConfChange(null, List.of(new ConfChangeSingle(type, id)), ch.build().toByteArray());
    return new Entry(term, index, EntryType.CONF_CHANGE, cc.encode());
  }
}
