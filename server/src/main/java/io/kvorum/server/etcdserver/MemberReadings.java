package io.kvorum.server.etcdserver;

import io.kvorum.raft.StateType;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.membership.Member;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.metrics.MemberGauges;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.replication.RaftLoop;
import io.kvorum.server.transport.PeerTransport;
import io.kvorum.server.watch.WatchHub;
import java.util.List;
import java.util.function.LongSupplier;

/** What the member's gauges read at scrape time, straight from the parts that keep it. */
final class MemberReadings implements MemberGauges {
  private final long memberId;
  private final long quotaBackendBytes;
  private final Membership membership;
  private final RaftLoop loop;
  private final Proposer proposer;
  private final MemberApplier applier;
  private final LeaseDuties leaseDuties;
  private final KvStore kv;
  private final WatchHub watchHub;
  private final AuthStore auth;
  private final PeerTransport transport;
  private final LongSupplier size;

  MemberReadings(long memberId, long quotaBackendBytes, Membership membership, RaftLoop loop, Proposer proposer,
      MemberApplier applier, LeaseDuties leaseDuties, KvStore kv, WatchHub watchHub, AuthStore auth,
      PeerTransport transport, LongSupplier size) {
    this.size = size;
    this.memberId = memberId;
    this.quotaBackendBytes = quotaBackendBytes;
    this.membership = membership;
    this.loop = loop;
    this.proposer = proposer;
    this.applier = applier;
    this.leaseDuties = leaseDuties;
    this.kv = kv;
    this.watchHub = watchHub;
    this.auth = auth;
    this.transport = transport;
  }

  @Override
  public long memberId() {
    return memberId;
  }

  @Override
  public long leader() {
    return loop.softState().lead();
  }

  @Override
  public boolean isLeader() {
    return loop.softState().raftState() == StateType.LEADER;
  }

  @Override
  public boolean isLearner() {
    Member m = membership.get(memberId);
    return m != null && m.isLearner();
  }

  @Override
  public long leaderChanges() {
    return loop.leaderChanges();
  }

  @Override
  public long committedIndex() {
    return loop.status().hardState().commit();
  }

  @Override
  public long appliedIndex() {
    return applier.appliedIndex();
  }

  @Override
  public long pendingProposals() {
    return proposer.pendingCount();
  }

  @Override
  public long failedProposals() {
    return proposer.failedCount();
  }

  @Override
  public long slowApplies() {
    return applier.slowApplies();
  }

  @Override
  public long expiredLeases() {
    return leaseDuties.expiredCount();
  }

  @Override
  public boolean applyingSnapshot() {
    return loop.isRestoring();
  }

  @Override
  public long quotaBackendBytes() {
    return quotaBackendBytes;
  }

  /** The logical size, as Status reports it and the quota measures it (README, differences). */
  @Override
  public long dbSizeBytes() {
    return size.getAsLong();
  }

  /** The same measure: the logical size has no free pages, everything counted is in use. */
  @Override
  public long dbInUseBytes() {
    return size.getAsLong();
  }

  @Override
  public long liveKeys() {
    return kv.liveKeyCount();
  }

  @Override
  public long currentRevision() {
    return kv.currentRevision();
  }

  @Override
  public long compactRevision() {
    return kv.compactRevision();
  }

  @Override
  public long watchStreams() {
    return watchHub.streamCount();
  }

  @Override
  public long watchers() {
    return watchHub.watcherCount();
  }

  @Override
  public long slowWatchers() {
    return watchHub.slowWatcherCount();
  }

  @Override
  public long watchEventsSent() {
    return watchHub.eventsSent();
  }

  @Override
  public long authRevision() {
    return auth.revision();
  }

  @Override
  public List<Long> peers() {
    return transport.peerIds();
  }

  @Override
  public boolean peerActive(long peerId) {
    return transport.isActive(peerId);
  }
}
