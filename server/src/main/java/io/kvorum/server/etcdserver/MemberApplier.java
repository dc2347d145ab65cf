package io.kvorum.server.etcdserver;

import com.google.protobuf.InvalidProtocolBufferException;
import io.kvorum.proto.serverpb.MemberAttributes;
import io.kvorum.proto.serverpb.MemberChange;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.raft.ConfChange;
import io.kvorum.raft.ConfChangeSingle;
import io.kvorum.raft.ConfChangeType;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.Snapshot;
import io.kvorum.server.alarm.AlarmStore;
import io.kvorum.server.apply.ApplierChain;
import io.kvorum.server.apply.ApplyContext;
import io.kvorum.server.apply.BackendQuota;
import io.kvorum.server.auth.AuthStore;
import io.kvorum.server.clock.Clock;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.failpoint.Failpoint;
import io.kvorum.server.failpoint.Failpoints;
import io.kvorum.server.lease.Lessor;
import io.kvorum.server.membership.Membership;
import io.kvorum.server.mvcc.IndexRebuild;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.replication.Applier;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.SnapshotLoader;
import io.kvorum.server.watch.WatchHub;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member's state machine as the raft loop sees it (apply thread only): requests go through
 * the {@link ApplierChain}; membership changes are decided against the applied membership (a
 * refused one is applied to raft as a no-op, and refused again when replayed after a restart);
 * a snapshot from the leader replaces the backend and everything kept in memory is rebuilt.
 */
final class MemberApplier implements Applier {
  private static final Logger LOG = LoggerFactory.getLogger(MemberApplier.class);

  private final long memberId;
  private final Path memberDir;
  private final BackendShipping shipping;
  private final Backend backend;
  private final KvStore kv;
  private final Lessor lessor;
  private final AuthStore auth;
  private final AlarmStore alarms;
  private final Membership membership;
  private final Peers peers;
  private final Waiters waiters;
  private final Clock clock;
  private final ApplierChain chain;
  /** etcd's {@code --experimental-warning-apply-duration}: a request applied slower is logged. */
  private long warnApplyNanos = Long.MAX_VALUE;
  private WatchHub watchHub;
  private LongConsumer termStarted = term -> {};
  private Consumer<Runnable> quotaExceeded = Runnable::run;
  private volatile long applied;
  /** Requests that took longer than {@code --experimental-warning-apply-duration} to apply (apply thread writes). */
  private volatile long slowApplies;

  /** The member's peers as the transport knows them; follows the applied membership. */
  interface Peers {
    /** Connects to every member of {@code membership} but this one, at its current peer URLs. */
    void connect(Membership membership);

    /** Follows one applied membership change of member {@code id} (never this member). */
    void changed(Membership.Kind kind, long id, List<String> peerUrls);

    /** Ids of the peers the transport sends to. */
    Set<Long> ids();

    /** This member was removed from the cluster: it stops. */
    void removed();
  }

  MemberApplier(long memberId, Path memberDir, BackendShipping shipping, Backend backend, KvStore kv, Lessor lessor,
      AuthStore auth, AlarmStore alarms, BackendQuota quota, Membership membership,
      Peers peers, Waiters waiters, Clock clock, ApplierChain.Headers headers, long appliedIndex) {
    this.memberId = memberId;
    this.memberDir = memberDir;
    this.shipping = shipping;
    this.backend = backend;
    this.kv = kv;
    this.lessor = lessor;
    this.auth = auth;
    this.alarms = alarms;
    this.membership = membership;
    this.peers = peers;
    this.waiters = waiters;
    this.clock = clock;
    this.applied = appliedIndex;
    this.chain = new ApplierChain(kv, lessor, auth, alarms, quota, headers, this::publish, new Outcomes());
  }

  /**
   * Where applied requests' outcomes go: their waiters, except that an entry applied over the
   * backend quota while no NOSPACE alarm is raised first has this member raise one (etcd's
   * {@code applyEntryNormal}: every member that applies it does, whether a client waits here or not).
   */
  private final class Outcomes implements ApplierChain.Results {
    @Override
    public void complete(long requestId, Object result) {
      waiters.complete(requestId, result);
    }

    @Override
    public void fail(long requestId, EtcdException error) {
      if (error.error() == EtcdError.NO_SPACE && !alarms.noSpace()) {
        quotaExceeded.accept(() -> waiters.fail(requestId, error));
        return;
      }
      waiters.fail(requestId, error);
    }
  }

  /**
   * Who raises the NOSPACE alarm when an applied entry did not fit in the quota, then runs the
   * given answer to the entry's waiter (set once, before raft starts).
   */
  void onQuotaExceeded(Consumer<Runnable> raiseThen) {
    this.quotaExceeded = raiseThen;
  }

  Peers peers() {
    return peers;
  }

  /** Requests that took longer than etcd's 100 ms to apply (etcd's {@code slow_apply_total}). */
  long slowApplies() {
    return slowApplies;
  }

  /** The watchers to tell when the store is replaced by a snapshot (set once, before raft starts). */
  void notify(WatchHub hub) {
    this.watchHub = hub;
  }

  /** Logs each request whose apply takes longer than {@code d} (set once, before raft starts). */
  void warnApplyOver(java.time.Duration d) {
    this.warnApplyNanos = d.toNanos();
  }

  /**
   * Whom to tell, with its term, of each empty entry applied: a new leader's first entry of its
   * term (set once, before raft starts).
   */
  void onTermStart(LongConsumer termStarted) {
    this.termStarted = termStarted;
  }

  @Override
  public void apply(List<Entry> entries) {
    for (Entry e : entries) {
      if (e.type() == EntryType.NORMAL) {
        if (e.data().length > 0) {
          long start = clock.nanos();
          chain.apply(new ConsistentIndex(e.index(), e.term()), e.data());
          long took = clock.nanos() - start;
          if (took > warnApplyNanos) {
            // etcd's slow_apply_total counts what its warning reports; only a log line and a
            // counter: the clock never decides anything on the apply path.
            slowApplies = slowApplies + 1;
            LOG.warn("apply request took too long (took {} ms, expected-duration {} ms, index {}, {} bytes)",
                TimeUnit.NANOSECONDS.toMillis(took), TimeUnit.NANOSECONDS.toMillis(warnApplyNanos), e.index(),
                e.data().length);
          }
        } else {
          termStarted.accept(e.term());
        }
      }
      applied = e.index();
      Failpoints.hit(Failpoint.APPLY_MID_BATCH);
    }
  }

  private void publish(ApplyContext ctx, MemberAttributes a) {
    membership.publish(a.getMemberId(), a.getName(), a.getClientUrlsList());
    // Persisted with the consistent index: a restarted member does not re-apply it.
    saveMembership(ctx.index());
  }

  /** Stores the whole membership in the batch of entry {@code ci}. */
  private void saveMembership(ConsistentIndex ci) {
    try (Batch b = backend.newBatch()) {
      b.put(Schema.Bucket.META, Schema.membershipKey(), membership.record().toByteArray());
      b.setConsistentIndex(ci);
      backend.commit(b);
    }
  }

  @Override
  public ConfChange applyConfChange(Entry e, ConfChange cc) {
    Failpoints.hit(Failpoint.BEFORE_APPLY_ONE_CONF_CHANGE);
    ConfChangeSingle single = cc.changes().size() == 1 ? cc.changes().get(0) : null;
    if (single == null) {
      // Kvorum proposes single changes only; anything else is applied as raft decides.
      applied = Math.max(applied, e.index());
      return cc;
    }
    ConfChange noop = ConfChange.of(single.type(), 0);
    if (e.index() <= applied) {
      // Replayed after a restart: the state machine holds it; raft needs the same decision again.
      return membership.wasRefused(e.index()) ? noop : cc;
    }
    MemberChange ch;
    try {
      ch = MemberChange.parseFrom(cc.context());
    } catch (InvalidProtocolBufferException ex) {
      ch = null;
    }
    long id = single.nodeId();
    Membership.Kind kind = switch (single.type()) {
      case ADD_NODE -> ch != null && ch.getIsPromote() ? Membership.Kind.PROMOTE : Membership.Kind.ADD;
      case ADD_LEARNER_NODE -> Membership.Kind.ADD;
      case REMOVE_NODE -> Membership.Kind.REMOVE;
      case UPDATE_NODE -> Membership.Kind.UPDATE;
    };
    boolean learner = single.type() == ConfChangeType.ADD_LEARNER_NODE;
    List<String> urls = ch == null ? List.of() : ch.getPeerUrlsList();
    Membership.Refusal refusal;
    if (ch == null || ch.getMemberId() != id || id == 0) {
      refusal = Membership.Refusal.NOT_FOUND;
    } else {
      refusal = membership.check(kind, id, urls, learner);
    }
    ConsistentIndex ci = new ConsistentIndex(e.index(), e.term());
    if (refusal != null) {
      membership.refused(e.index());
      saveMembership(ci);
      applied = e.index();
      if (ch != null) {
        waiters.fail(ch.getRequestId(), refusalError(refusal).exception());
      }
      return noop;
    }
    membership.apply(kind, id, urls, learner);
    saveMembership(ci);
    applied = e.index();
    LOG.info("applied a configuration change through raft: {} {} (index {})", single.type(),
        Long.toHexString(id), e.index());
    if (id == memberId) {
      if (kind == Membership.Kind.REMOVE) {
        peers.removed();
      }
    } else {
      peers.changed(kind, id, urls);
    }
    waiters.complete(ch.getRequestId(), new Reconfigured(membership.list()));
    return cc;
  }

  private static EtcdError refusalError(Membership.Refusal r) {
    return switch (r) {
      case NOT_FOUND -> EtcdError.MEMBER_NOT_FOUND;
      case EXISTS -> EtcdError.MEMBER_EXIST;
      case PEER_URL_EXISTS -> EtcdError.PEER_U_R_L_EXIST;
      case NOT_LEARNER -> EtcdError.MEMBER_NOT_LEARNER;
      case TOO_MANY_LEARNERS -> EtcdError.TOO_MANY_LEARNERS;
    };
  }

  @Override
  public void restore(Snapshot snapshot) {
    Path dir = BackendShipping.dataDir(memberDir, snapshot.index());
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException("no backend received with the raft snapshot at index " + snapshot.index());
    }
    long start = clock.nanos();
    IndexRebuild keys = shipping.takeIndex(snapshot.index());
    backend.replaceWith(dir);
    long ingested = clock.nanos();
    reloadState(keys);
    applied = backend.consistentIndex().index();
    try {
      SnapshotLoader.deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("cannot remove {}: {}", dir, e.toString());
    }
    LOG.info("installed the snapshot at index {} (backend applied index {}, revision {}) in {} ms ({} ms to ingest, "
        + "then the index {} and leases loaded)", snapshot.index(), applied, kv.currentRevision(),
        TimeUnit.NANOSECONDS.toMillis(clock.nanos() - start), TimeUnit.NANOSECONDS.toMillis(ingested - start),
        keys != null ? "rebuilt while receiving" : "read from the backend");
  }

  /** Reloads everything kept in memory from the backend after its content was replaced. */
  private void reloadState(IndexRebuild keys) {
    Map<com.google.protobuf.ByteString, Long> attached = keys != null ? kv.reload(keys) : kv.reload();
    lessor.clear();
    Bootstrap.loadLeases(backend, lessor, attached);
    auth.reload();
    alarms.reload();
    try (ReadView v = backend.snapshotView()) {
      byte[] record = v.get(Schema.Bucket.META, Schema.membershipKey());
      if (record != null) {
        membership.load(MembershipRecord.parseFrom(record));
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt membership record in the snapshot", e);
    }
    peers.connect(membership);
    Set<Long> ids = new HashSet<>();
    membership.list().forEach(m -> ids.add(m.id()));
    for (long id : peers.ids()) {
      if (!ids.contains(id)) {
        peers.changed(Membership.Kind.REMOVE, id, List.of());
      }
    }
    watchHub.storeReplaced();
  }

  @Override
  public long appliedIndex() {
    return applied;
  }

  @Override
  public byte[] prepareSnapshot() {
    backend.sync();
    return new byte[0];
  }
}
