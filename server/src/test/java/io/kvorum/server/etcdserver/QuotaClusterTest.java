package io.kvorum.server.etcdserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmRequest.AlarmAction;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.server.errors.EtcdError;
import io.kvorum.server.errors.EtcdException;
import io.kvorum.server.testing.LocalCluster;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend quota and the alarms on three real members: a member that cannot fit a write raises
 * NOSPACE for itself through the log, every member then refuses what etcd's capped applier refuses
 * and serves the rest, a compaction makes room, disarming lets writes in again, and alarms survive
 * a restart. CORRUPT refuses what etcd's corrupt applier refuses.
 */
class QuotaClusterTest {
  /** Room for about a dozen 4 KiB values. */
  private static final long QUOTA_BYTES = 13 * 4096;
  private static final RequestContext CTX = RequestContext.of("test");

  @TempDir Path dir;
  private LocalCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static PutRequest put(String k, String v) {
    return PutRequest.newBuilder().setKey(b(k)).setValue(b(v)).build();
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(20, TimeUnit.SECONDS);
  }

  /** The etcd error {@code f} fails with. */
  private static EtcdError error(CompletableFuture<?> f) throws Exception {
    try {
      f.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof EtcdException ee) {
        return ee.error();
      }
      throw e;
    }
    throw new AssertionError("expected a failure");
  }

  private static AlarmRequest alarm(AlarmAction action, long member, AlarmType type) {
    return AlarmRequest.newBuilder().setAction(action).setMemberID(member).setAlarm(type).build();
  }

  /** The leader, once every member knows it. */
  private EtcdServer leader() {
    EtcdServer leader = cluster.leader(s -> true);
    LocalCluster.await("every member knows the leader",
        () -> cluster.members().values().stream().allMatch(s -> s.leader() == leader.memberId()));
    return leader;
  }

  /**
   * Every member applied everything (nothing is proposed meanwhile): the same applied index, with
   * the same revision and logical size there. A client's answer comes as its entry is applied,
   * before the member counts the entry as applied, so this waits rather than compares once.
   */
  private void awaitApplied(EtcdServer leader) {
    LocalCluster.await("every member applied what " + Long.toHexString(leader.memberId()) + " applied", () -> {
      long index = leader.appliedIndex();
      long rev = leader.header().getRevision();
      long size = leader.dbSizeBytes();
      return cluster.members().values().stream().allMatch(s -> s.appliedIndex() == index
          && s.header().getRevision() == rev && s.dbSizeBytes() == size) && leader.appliedIndex() == index;
    });
  }

  @Test
  void quota_raisedByTheServingMember_refusesWritesOnEveryMember_compactionAndDisarmLetThemIn() throws Exception {
    cluster = LocalCluster.start(dir, 3, c -> c.quotaBackendBytes = QUOTA_BYTES);
    EtcdServer leader = leader();
    EtcdServer follower = cluster.other(leader);
    String value = "b".repeat(4096);

    get(follower.kv().put(CTX, put("small", "a".repeat(64))));
    int written = 0;
    EtcdError refused = null;
    while (refused == null) {
      try {
        get(follower.kv().put(CTX, put("big", value)));
        written++;
        assertThat(written).as("puts before the quota is reached").isLessThan(20);
      } catch (ExecutionException e) {
        refused = ((EtcdException) e.getCause()).error();
      }
    }
    assertThat(refused).isEqualTo(EtcdError.NO_SPACE);
    assertThat(written).isBetween(8, 13);
    AlarmMember raised = AlarmMember.newBuilder().setMemberID(follower.memberId()).setAlarm(AlarmType.NOSPACE).build();
    // Raised before the client got its error: the follower applied it already.
    assertThat(follower.alarms()).containsExactly(raised);
    awaitApplied(leader);
    for (EtcdServer s : cluster.members().values()) {
      assertThat(s.alarms()).containsExactly(raised);
      assertThat(get(s.alarm(CTX, alarm(AlarmAction.GET, 0, AlarmType.NONE))).getAlarmsList()).containsExactly(raised);
    }

    // What etcd's capped applier refuses, and what it lets through.
    assertThat(error(leader.kv().put(CTX, put("small", "x")))).isEqualTo(EtcdError.NO_SPACE);
    assertThat(error(leader.leases().leaseGrant(CTX, LeaseGrantRequest.newBuilder().setTTL(60).build())))
        .isEqualTo(EtcdError.NO_SPACE);
    assertThat(error(leader.kv().txn(CTX, TxnRequest.newBuilder()
        .addFailure(RequestOp.newBuilder().setRequestPut(put("t", "x"))).build()))).isEqualTo(EtcdError.NO_SPACE);
    assertThat(get(leader.kv().range(CTX, RangeRequest.newBuilder().setKey(b("small")).build())).getCount())
        .isEqualTo(1);
    assertThat(get(leader.kv().txn(CTX, TxnRequest.newBuilder()
        .addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(b("big")))).build()))
        .getResponses(0).getResponseRange().getCount()).isEqualTo(1);
    assertThat(get(leader.kv().deleteRange(CTX, DeleteRangeRequest.newBuilder().setKey(b("small")).build()))
        .getDeleted()).isEqualTo(1);

    // A compaction drops the history of "big"; the alarm stays until it is disarmed.
    long before = leader.dbSizeBytes();
    long rev = leader.header().getRevision();
    get(leader.kv().compact(CTX, CompactionRequest.newBuilder().setRevision(rev).setPhysical(true).build()));
    awaitApplied(leader);
    assertThat(leader.dbSizeBytes()).isLessThan(before - (written - 1) * 4096L);
    assertThat(error(leader.kv().put(CTX, put("small", "x")))).isEqualTo(EtcdError.NO_SPACE);
    AlarmResponse disarmed = get(leader.alarm(CTX,
        alarm(AlarmAction.DEACTIVATE, follower.memberId(), AlarmType.NOSPACE)));
    assertThat(disarmed.getAlarmsList()).containsExactly(raised);
    get(leader.kv().put(CTX, put("small", "fits again")));
    awaitApplied(leader);
    for (EtcdServer s : cluster.members().values()) {
      assertThat(s.alarms()).isEmpty();
    }
  }

  @Test
  void quota_aWriteThatFitsWhereServedButNotWhereApplied_isAppliedAndThoseMembersRaiseTheAlarm() throws Exception {
    // The quota is each member's own setting: m1 has etcd's default, m2 and m3 a small one.
    cluster = LocalCluster.start(dir, 3, c -> c.quotaBackendBytes = c.name.equals("m1") ? 0 : QUOTA_BYTES);
    leader();
    EtcdServer m1 = cluster.members().get("m1");
    String value = "b".repeat(4096);
    int i = 0;
    while (m1.alarms().isEmpty()) {
      try {
        get(m1.kv().put(CTX, put("k" + i, value)));
      } catch (ExecutionException e) {
        // The alarm was applied before this put: refused by every member.
        assertThat(((EtcdException) e.getCause()).error()).isEqualTo(EtcdError.NO_SPACE);
        break;
      }
      i++;
      assertThat(i).as("puts before m2 and m3 find the store over their quota").isLessThan(40);
    }
    // About a dozen fit; m1 takes more until the alarm m2 and m3 raise is applied.
    assertThat(i).isGreaterThanOrEqualTo(8);
    LocalCluster.await("m2 and m3 raised the alarm", () -> m1.alarms().size() == 2);
    AlarmMember m2 = AlarmMember.newBuilder().setMemberID(cluster.members().get("m2").memberId())
        .setAlarm(AlarmType.NOSPACE).build();
    AlarmMember m3 = AlarmMember.newBuilder().setMemberID(cluster.members().get("m3").memberId())
        .setAlarm(AlarmType.NOSPACE).build();
    assertThat(m1.alarms()).containsExactlyInAnyOrder(m2, m3);
    // Now every member refuses puts, m1 included, whatever its own quota.
    assertThat(error(m1.kv().put(CTX, put("k", "v")))).isEqualTo(EtcdError.NO_SPACE);
    awaitApplied(m1);
    assertThat(m1.header().getRevision()).as("every put was applied").isEqualTo(i + 1);
    for (EtcdServer s : cluster.members().values()) {
      assertThat(s.alarms()).containsExactlyInAnyOrder(m2, m3);
    }
  }

  @Test
  void logicalSizeAndAlarms_areTheLeadersOnAMemberThatCaughtUpFromASnapshot() throws Exception {
    cluster = LocalCluster.start(dir, 3, c -> c.snapshotCount = 50);
    EtcdServer leader = leader();
    for (int i = 0; i < 120; i++) {
      get(leader.kv().put(CTX, put("k" + (i % 40), "v" + i)));
    }
    get(leader.kv().deleteRange(CTX, DeleteRangeRequest.newBuilder().setKey(b("k1")).build()));
    get(leader.kv().compact(CTX, CompactionRequest.newBuilder().setRevision(60).build()));
    get(leader.leases().leaseGrant(CTX, LeaseGrantRequest.newBuilder().setID(7).setTTL(600).build()));
    get(leader.alarm(CTX, alarm(AlarmAction.ACTIVATE, 0x42, AlarmType.NOSPACE)));

    java.net.URI url = java.net.URI.create("http://127.0.0.1:" + LocalCluster.freePort());
    cluster.reconfigure(Reconfiguration.HEALTH_INTERVAL, () -> leader.memberAdd(CTX, List.of(url.toString()), true));
    EtcdServer learner = cluster.join("m4", url, c -> c.snapshotCount = 50);
    LocalCluster.await("the learner catches up", () -> learner.appliedIndex() >= leader.appliedIndex());
    assertThat(learner.snapshotIndex()).as("caught up from a snapshot").isGreaterThanOrEqualTo(50);
    awaitApplied(leader);
    assertThat(learner.dbSizeBytes()).isEqualTo(leader.dbSizeBytes());
    assertThat(learner.alarms()).isEqualTo(leader.alarms()).hasSize(1);
  }

  @Test
  void alarms_surviveARestart_andCorruptRefusesKvAndLeases() throws Exception {
    cluster = LocalCluster.start(dir, 3, c -> { });
    EtcdServer leader = leader();
    get(leader.kv().put(CTX, put("k", "v")));
    AlarmResponse r = get(leader.alarm(CTX, alarm(AlarmAction.ACTIVATE, 0, AlarmType.CORRUPT)));
    AlarmMember corrupt = AlarmMember.newBuilder().setAlarm(AlarmType.CORRUPT).build();
    assertThat(r.getAlarmsList()).containsExactly(corrupt);
    awaitApplied(leader);

    EtcdServer follower = cluster.other(leader);
    String name = cluster.members().entrySet().stream().filter(e -> e.getValue() == follower).findFirst()
        .orElseThrow().getKey();
    cluster.stop(follower);
    EtcdServer restarted = cluster.restart(name);
    assertThat(restarted.alarms()).containsExactly(corrupt);
    LocalCluster.await("the restarted member knows the leader", () -> restarted.leader() != 0);

    for (EtcdServer s : List.of(leader, restarted)) {
      assertThat(error(s.kv().put(CTX, put("k", "x")))).isEqualTo(EtcdError.CORRUPT);
      assertThat(error(s.kv().deleteRange(CTX, DeleteRangeRequest.newBuilder().setKey(b("k")).build())))
          .isEqualTo(EtcdError.CORRUPT);
      assertThat(error(s.leases().leaseGrant(CTX, LeaseGrantRequest.newBuilder().setTTL(60).build())))
          .isEqualTo(EtcdError.CORRUPT);
      assertThat(error(s.kv().compact(CTX, CompactionRequest.newBuilder().setRevision(2).build())))
          .isEqualTo(EtcdError.CORRUPT);
      // Reads are served, as etcd serves them outside its applier chain.
      assertThat(get(s.kv().range(CTX, RangeRequest.newBuilder().setKey(b("k")).build())).getCount()).isEqualTo(1);
    }
    get(restarted.alarm(CTX, alarm(AlarmAction.DEACTIVATE, 0, AlarmType.CORRUPT)));
    get(restarted.kv().put(CTX, put("k", "x")));
    assertThat(restarted.alarms()).isEmpty();
  }
}
