package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.cluster;

import io.grpc.StatusRuntimeException;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.Compare.CompareResult;
import io.kvorum.proto.etcdserverpb.Compare.CompareTarget;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseLeasesRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MemberAddRequest;
import io.kvorum.proto.etcdserverpb.MemberAddResponse;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MemberPromoteRequest;
import io.kvorum.proto.etcdserverpb.MemberRemoveRequest;
import io.kvorum.proto.etcdserverpb.MemberUpdateRequest;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.tests.MemberProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Membership and leadership on three-member clusters whose first member leads on both sides.
 * Members added here are never started (their ports are never listened on); every scenario
 * removes what it added, so the next one starts from the same three members.
 */
final class ClusterScenarios {
  private ClusterScenarios() {}

  /** Peer URLs of members that never start: nothing listens on these loopback ports. */
  static final String SPARE_URL_1 = "http://127.0.0.1:1";
  static final String SPARE_URL_2 = "http://127.0.0.1:3";

  /**
   * An unrecorded linearizable read on member {@code i}: afterwards it has applied everything
   * committed before, so what it answers next does not depend on how fast it applies.
   */
  static void barrier(Recorder c, int i) {
    c.side.unrecorded(i, KVGrpc.getRangeMethod(), KvScenarios.range(c, "barrier").build());
  }

  /**
   * Before a membership change: the leader must have applied the previous one (raft drops a change
   * proposed while one is pending), and so must the member asked.
   */
  static void settled(Recorder c, int via) {
    barrier(c, 0);
    barrier(c, via);
  }

  static MemberAddResponse add(Recorder c, int via, boolean learner, String... urls) {
    settled(c, via);
    return c.call(via, ClusterGrpc.getMemberAddMethod(),
        MemberAddRequest.newBuilder().addAllPeerURLs(List.of(urls)).setIsLearner(learner).build());
  }

  static void remove(Recorder c, int via, long id) {
    settled(c, via);
    c.call(via, ClusterGrpc.getMemberRemoveMethod(), MemberRemoveRequest.newBuilder().setID(id).build());
  }

  static void update(Recorder c, int via, long id, String... urls) {
    settled(c, via);
    c.call(via, ClusterGrpc.getMemberUpdateMethod(),
        MemberUpdateRequest.newBuilder().setID(id).addAllPeerURLs(List.of(urls)).build());
  }

  static void promote(Recorder c, int via, long id) {
    settled(c, via);
    c.call(via, ClusterGrpc.getMemberPromoteMethod(), MemberPromoteRequest.newBuilder().setID(id).build());
  }

  /**
   * MemberList through member {@code via}, after an unrecorded linearizable read there: a member
   * lists what it has applied, and whether a follower applied the last change yet is timing.
   */
  static void list(Recorder c, int via) {
    barrier(c, via);
    c.call(via, ClusterGrpc.getMemberListMethod(), MemberListRequest.getDefaultInstance());
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(cluster("member list and status from every member", c -> {
      for (int i = 0; i < 3; i++) {
        list(c, i);
        c.call(i, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
      }
    }));
    s.add(cluster("member add: malformed, duplicate and missing peer URLs", c -> {
      for (String odd : new String[] {"not a url", "http://127.0.0.1", "ftp://127.0.0.1:1", "http://127.0.0.1:1/path",
          "", "127.0.0.1:1", "http://[::1", "http://:1"}) {
        MemberAddResponse r = add(c, 0, true, odd);
        if (r != null) {
          // One learner at a time: take it out before the next add.
          remove(c, 0, r.getMember().getID());
        }
      }
      add(c, 0, false);
      add(c, 0, false, c.side.members.get(1).peerUrl());
      add(c, 0, true, SPARE_URL_1, c.side.members.get(2).peerUrl());
      add(c, 1, false, c.side.members.get(0).peerUrl());
      list(c, 0);
    }));
    s.add(cluster("learner: add, second learner refused, promote before in sync, remove", c -> {
      MemberAddResponse learner = add(c, 0, true, SPARE_URL_1);
      add(c, 0, true, SPARE_URL_2);
      list(c, 1);
      if (learner != null) {
        long id = learner.getMember().getID();
        promote(c, 0, id);
        promote(c, 1, id);
        c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder().setTargetID(id).build());
        // (A learner's peer URL update is a deliberate difference: DeliberateScenarios.)
        list(c, 0);
        remove(c, 1, id);
        remove(c, 0, id);
        promote(c, 0, id);
      }
      list(c, 2);
    }));
    s.add(cluster("member remove, update and promote of unknown or wrong members", c -> {
      remove(c, 0, 0x1234);
      remove(c, 0, 0);
      promote(c, 0, 0x1234);
      promote(c, 0, c.side.memberId(1));
      update(c, 0, 0x1234, SPARE_URL_1);
      update(c, 0, c.side.memberId(1), c.side.members.get(2).peerUrl());
      update(c, 0, c.side.memberId(1), c.side.members.get(1).peerUrl());
      list(c, 0);
    }));
    s.add(cluster("member add of a voter that never starts, then its removal", c -> {
      MemberAddResponse voter = add(c, 1, false, SPARE_URL_2);
      list(c, 0);
      if (voter != null) {
        update(c, 0, voter.getMember().getID(), SPARE_URL_1);
        list(c, 2);
        remove(c, 0, voter.getMember().getID());
      }
      list(c, 1);
    }));
    s.add(cluster("move leader: to itself, from a follower, to unknown ids, to a follower", c -> {
      c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(0)).build());
      c.call(1, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(2)).build());
      c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder().setTargetID(0x1234).build());
      c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder().setTargetID(0).build());
      c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(1)).build());
      c.call(1, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
      c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(2)).build());
    }));
    s.add(cluster("hash and HashKV are equal on every member", c -> {
      c.put("k", "v");
      long rev = c.revision();
      List<Long> hashes = new ArrayList<>();
      List<Long> kvHashes = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        // A linearizable read first, so the member applied everything.
        c.call(i, KVGrpc.getRangeMethod(),
            RangeRequest.newBuilder().setKey(c.key("k")).build());
        var h = c.call(i, MaintenanceGrpc.getHashMethod(), HashRequest.getDefaultInstance());
        var kv = c.call(i, MaintenanceGrpc.getHashKVMethod(),
            HashKVRequest.newBuilder().setRevision(rev).build());
        hashes.add(h == null ? null : Long.valueOf(h.getHash()));
        kvHashes.add(kv == null ? null : Long.valueOf(kv.getHash()));
      }
      c.note("Hash equal on all members: " + (hashes.stream().distinct().count() == 1));
      c.note("HashKV equal on all members: " + (kvHashes.stream().distinct().count() == 1));
    }));
    s.add(cluster("writes, reads and txns through every member", c -> {
      for (int i = 0; i < 3; i++) {
        c.call(i, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("k" + i))
            .setValue(Recorder.bytes("v" + i)).setPrevKv(true).build());
      }
      for (int i = 0; i < 3; i++) {
        c.call(i, KVGrpc.getRangeMethod(), KvScenarios.range(c, "k", "l").build());
        c.call(i, KVGrpc.getTxnMethod(), TxnRequest.newBuilder()
            .addCompare(TxnScenarios.cmp(c, "k" + i, CompareTarget.VERSION, CompareResult.EQUAL).setVersion(1))
            .addSuccess(TxnScenarios.put(c, "k" + i, "again")).addSuccess(TxnScenarios.get(c, "k" + i)).build());
        c.call(i, KVGrpc.getDeleteRangeMethod(), DeleteRangeRequest.newBuilder().setKey(c.key("k" + i))
            .setPrevKv(true).build());
      }
    }));
    s.add(cluster("leases through followers: grant, keep-alive, time-to-live, revoke", c -> {
      c.call(1, LeaseGrpc.getLeaseGrantMethod(), LeaseGrantRequest.newBuilder().setID(0x7001).setTTL(60).build());
      c.call(2, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("k")).setValue(Recorder.bytes("v"))
          .setLease(0x7001).build());
      var k = c.stream(2, LeaseGrpc.getLeaseKeepAliveMethod());
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x7001).build());
      k.await(1);
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x7002).build());
      k.await(1);
      k.cancel();
      for (int i = 0; i < 3; i++) {
        c.call(i, LeaseGrpc.getLeaseTimeToLiveMethod(),
            LeaseTimeToLiveRequest.newBuilder().setID(0x7001).setKeys(true).build());
        barrier(c, i);
        c.call(i, LeaseGrpc.getLeaseLeasesMethod(), LeaseLeasesRequest.getDefaultInstance());
      }
      c.call(1, LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(0x7001).build());
      c.call(2, LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(0x7001).build());
      c.call(0, KVGrpc.getRangeMethod(), KvScenarios.range(c, "k").build());
    }));
    s.add(cluster("watch on a follower sees writes made through the leader and the other follower", c -> {
      var w = c.stream(1, WatchGrpc.getWatchMethod());
      w.send(WatchScenarios.create(WatchScenarios.on(c, "a", "z").setPrevKv(true)));
      w.await(1);
      c.call(0, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("b")).setValue(Recorder.bytes("1")).build());
      w.await(1);
      c.call(2, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("b")).setValue(Recorder.bytes("2")).build());
      w.await(1);
      w.send(WatchScenarios.progress());
      w.await(1);
      w.quiet();
      w.cancel();
    }));
    s.add(cluster("a started learner: what it serves and what it refuses", c -> {
      c.put("k", "before the learner");
      MemberProcess joiner = c.side.joiner("m3");
      // Unrecorded and retried: strict reconfiguration refuses an add for 5 s after a peer
      // connection changed, and when that window ends differs by side.
      long id = addUnrecorded(c, joiner.peerUrl());
      list(c, 0);
      c.side.join(joiner);
      awaitCaughtUp(c, 3);
      int l = 3;
      c.call(l, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
      c.call(l, KVGrpc.getRangeMethod(), KvScenarios.range(c, "k").setSerializable(true).build());
      c.call(l, KVGrpc.getRangeMethod(), KvScenarios.range(c, "k").build());
      c.call(l, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("k")).setValue(Recorder.bytes("x")).build());
      c.call(l, KVGrpc.getTxnMethod(), TxnRequest.newBuilder().addSuccess(TxnScenarios.get(c, "k")).build());
      c.call(l, LeaseGrpc.getLeaseGrantMethod(), LeaseGrantRequest.newBuilder().setTTL(60).build());
      c.call(l, ClusterGrpc.getMemberListMethod(), MemberListRequest.getDefaultInstance());
      c.call(l, MaintenanceGrpc.getHashKVMethod(), HashKVRequest.getDefaultInstance());
      c.call(l, MaintenanceGrpc.getAlarmMethod(), AlarmRequest.getDefaultInstance());
      var w = c.stream(l, WatchGrpc.getWatchMethod());
      w.send(WatchScenarios.create(WatchScenarios.on(c, "k")));
      w.await(1);
      w.cancel();
      list(c, 0);
      c.call(0, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
      // Promoted, it serves everything, and its backend hashes like the others'.
      promote(c, 0, id);
      // The leader answers once it applied the promotion; the new voter applies it a moment later.
      awaitCaughtUp(c, l);
      c.call(l, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("k")).setValue(Recorder.bytes("voter"))
          .build());
      List<Long> hashes = new ArrayList<>();
      for (int i = 0; i <= l; i++) {
        c.call(i, KVGrpc.getRangeMethod(), KvScenarios.range(c, "k").build());
        var h = c.call(i, MaintenanceGrpc.getHashMethod(), HashRequest.getDefaultInstance());
        hashes.add(h == null ? null : Long.valueOf(h.getHash()));
      }
      c.note("Hash equal on all four members: " + (hashes.stream().distinct().count() == 1));
      list(c, l);
      remove(c, 0, id);
      c.side.leave(joiner);
      list(c, 1);
    }));
    s.add(cluster("a write to the leader while it hands leadership to a member that does not answer", c -> {
      MemberProcess target = c.side.members.get(1);
      target.signal("STOP");
      try {
        // The transfer lasts until it is given up (an election timeout): raft drops what the leader
        // is asked meanwhile, and etcd sends raft's error as it is.
        Recorder.Pending<?> move = c.start(0, MaintenanceGrpc.getMoveLeaderMethod(),
            MoveLeaderRequest.newBuilder().setTargetID(c.side.memberId(1)).build());
        move.stillWaiting();
        c.call(0, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("t")).setValue(Recorder.bytes("v")).build());
        move.await();
      } finally {
        target.signal("CONT");
      }
      awaitCaughtUp(c, 1);
    }));
    s.add(cluster("a write to a member that lost its leader: waits, times out, or is made once a leader is back", c -> {
      List<MemberProcess> others = List.of(c.side.members.get(1), c.side.members.get(2));
      for (MemberProcess m : others) {
        m.signal("STOP");
      }
      try {
        awaitNoLeader(c, 0);
        // etcd's raft node takes no proposal without a leader: the request timeout (5 s + 2 election
        // timeouts) passes and the context's error comes back; the write is never made.
        c.call(0, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("w")).setValue(Recorder.bytes("late")).build());
        Recorder.Pending<?> waiting = c.start(0, KVGrpc.getPutMethod(),
            PutRequest.newBuilder().setKey(c.key("w")).setValue(Recorder.bytes("made")).build());
        waiting.stillWaiting();
        for (MemberProcess m : others) {
          m.signal("CONT");
        }
        waiting.await();
      } finally {
        for (MemberProcess m : others) {
          m.signal("CONT");
        }
      }
      // Only the second write was made; the followers back in step before the next scenario.
      c.call(0, KVGrpc.getRangeMethod(), KvScenarios.range(c, "w").build());
      awaitCaughtUp(c, 1);
      awaitCaughtUp(c, 2);
    }));
    return s;
  }

  /** Adds a learner at {@code url} through the leader, retrying while it is refused; its id. */
  static long addUnrecorded(Recorder c, String url) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return c.side.unrecorded(0, ClusterGrpc.getMemberAddMethod(), MemberAddRequest.newBuilder().addPeerURLs(url).setIsLearner(true).build()).getMember().getID();
      } catch (StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
    }
  }

  /** Waits (unrecorded) until member {@code i} reports no leader: its leader lost the quorum's contact. */
  static void awaitNoLeader(Recorder c, int i) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (c.side.unrecorded(i, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance()).getLeader() != 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(c.side + ": m" + i + " still reports a leader");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }

  /** Waits (unrecorded) until member {@code i} applied what the leader has committed. */
  static void awaitCaughtUp(Recorder c, int i) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      try {
        long leader = c.side.unrecorded(0, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance())
            .getRaftIndex();
        long applied = c.side.unrecorded(i, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance())
            .getRaftAppliedIndex();
        if (applied >= leader) {
          return;
        }
      } catch (StatusRuntimeException e) {
        // Not serving yet.
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
  }
}
