package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.cluster;

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
import java.util.ArrayList;
import java.util.List;

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

  static MemberAddResponse add(Recorder c, int via, boolean learner, String... urls) {
    return c.call(via, ClusterGrpc.getMemberAddMethod(),
        MemberAddRequest.newBuilder().addAllPeerURLs(List.of(urls)).setIsLearner(learner).build());
  }

  static void remove(Recorder c, int via, long id) {
    c.call(via, ClusterGrpc.getMemberRemoveMethod(), MemberRemoveRequest.newBuilder().setID(id).build());
  }

  static void promote(Recorder c, int via, long id) {
    c.call(via, ClusterGrpc.getMemberPromoteMethod(), MemberPromoteRequest.newBuilder().setID(id).build());
  }

  static void list(Recorder c, int via) {
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
      for (String bad : new String[] {"not a url", "http://127.0.0.1", "ftp://127.0.0.1:1", "http://127.0.0.1:1/path",
          "", "127.0.0.1:1", "http://[::1", "http://:1"}) {
        add(c, 0, false, bad);
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
        c.call(1, ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder().setID(id)
            .addPeerURLs(SPARE_URL_2).build());
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
      c.call(0, ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder().setID(0x1234)
          .addPeerURLs(SPARE_URL_1).build());
      c.call(0, ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder().setID(c.side.memberId(1))
          .addPeerURLs(c.side.members.get(2).peerUrl()).build());
      c.call(0, ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder().setID(c.side.memberId(1))
          .addPeerURLs(c.side.members.get(1).peerUrl()).build());
      list(c, 0);
    }));
    s.add(cluster("member add of a voter that never starts, then its removal", c -> {
      MemberAddResponse voter = add(c, 1, false, SPARE_URL_2);
      list(c, 0);
      if (voter != null) {
        c.call(0, ClusterGrpc.getMemberUpdateMethod(), MemberUpdateRequest.newBuilder()
            .setID(voter.getMember().getID()).addPeerURLs(SPARE_URL_1).build());
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
    return s;
  }
}
