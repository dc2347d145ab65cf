package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Recorder.bytes;
import static io.kvorum.tests.differential.Scenario.cluster;
import static io.kvorum.tests.differential.Scenario.single;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseLeasesRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseStatus;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveResponse;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.v3electionpb.CampaignRequest;
import io.kvorum.proto.v3electionpb.CampaignResponse;
import io.kvorum.proto.v3electionpb.ElectionGrpc;
import io.kvorum.proto.v3electionpb.LeaderKey;
import io.kvorum.proto.v3electionpb.LeaderRequest;
import io.kvorum.proto.v3electionpb.LeaderResponse;
import io.kvorum.proto.v3electionpb.ProclaimRequest;
import io.kvorum.proto.v3electionpb.ResignRequest;
import io.kvorum.proto.v3lockpb.LockGrpc;
import io.kvorum.proto.v3lockpb.LockRequest;
import io.kvorum.proto.v3lockpb.LockResponse;
import io.kvorum.proto.v3lockpb.UnlockRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The Election and Lock services (etcd's server-side {@code clientv3/concurrency} recipes): who
 * leads and who waits, Proclaim and Resign by leaders and others, Observe, lock hand-over, lease 0,
 * a waiter whose client goes away, calls on followers while leadership moves, and auth. Every
 * lease a scenario makes is revoked before it ends, so no expiry changes the revision under a
 * later scenario.
 */
final class ElectionScenarios {
  private ElectionScenarios() {}

  /** The deadline of a call that is meant to pass it while it waits. */
  static final long DEADLINE_MS = 1_000;
  /** How long a scenario waits (unrecorded) for a waiting call's key to appear, or for a cleanup. */
  static final long SETTLE_MS = 20_000;

  static CampaignRequest campaign(ByteString name, long lease, String value) {
    return CampaignRequest.newBuilder().setName(name).setLease(lease).setValue(bytes(value)).build();
  }

  static CampaignResponse campaign(Recorder c, int member, ByteString name, long lease, String value) {
    return c.call(member, ElectionGrpc.getCampaignMethod(), campaign(name, lease, value));
  }

  static LeaderResponse leader(Recorder c, int member, ByteString name) {
    return c.call(member, ElectionGrpc.getLeaderMethod(), LeaderRequest.newBuilder().setName(name).build());
  }

  static void proclaim(Recorder c, int member, LeaderKey leader, String value) {
    ProclaimRequest.Builder r = ProclaimRequest.newBuilder().setValue(bytes(value));
    if (leader != null) {
      r.setLeader(leader);
    }
    c.call(member, ElectionGrpc.getProclaimMethod(), r.build());
  }

  static void resign(Recorder c, int member, LeaderKey leader) {
    ResignRequest.Builder r = ResignRequest.newBuilder();
    if (leader != null) {
      r.setLeader(leader);
    }
    c.call(member, ElectionGrpc.getResignMethod(), r.build());
  }

  static LockResponse lock(Recorder c, int member, ByteString name, long lease) {
    return c.call(member, LockGrpc.getLockMethod(), LockRequest.newBuilder().setName(name).setLease(lease).build());
  }

  static void unlock(Recorder c, int member, ByteString key) {
    c.call(member, LockGrpc.getUnlockMethod(), UnlockRequest.newBuilder().setKey(key).build());
  }

  /** The keys under {@code name/}, recorded. */
  static void candidates(Recorder c, ByteString name) {
    ByteString prefix = name.concat(bytes("/"));
    c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(prefix).setRangeEnd(name.concat(bytes("0")))
        .build());
  }

  /** How many keys there are under {@code name/}, unrecorded. */
  private static long count(Recorder c, ByteString name) {
    return c.side.unrecorded(0, KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(name.concat(bytes("/")))
        .setRangeEnd(name.concat(bytes("0"))).setCountOnly(true).build()).getCount();
  }

  /** Waits (unrecorded) until {@code name/} holds {@code n} keys; notes it if that never happens. */
  static void awaitCandidates(Recorder c, ByteString name, long n) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MS);
    while (count(c, name) != n) {
      if (System.nanoTime() > deadline) {
        c.note("never " + n + " keys under the election or lock, but " + count(c, name));
        return;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  static void revoke(Recorder c, long... ids) {
    for (long id : ids) {
      c.call(LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(id).build());
    }
  }

  /** The ids of the member's leases, unrecorded. */
  private static Set<Long> leases(Recorder c) {
    Set<Long> ids = new HashSet<>();
    for (LeaseStatus l : c.side.unrecorded(0, LeaseGrpc.getLeaseLeasesMethod(), LeaseLeasesRequest.getDefaultInstance())
        .getLeasesList()) {
      ids.add(l.getID());
    }
    return ids;
  }

  /** Revokes a lease the member chose, without recording (its id differs by side). */
  private static void revokeUnrecorded(Recorder c, long id) {
    c.side.unrecorded(0, LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(id).build());
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("election: campaign, leader, proclaim and resign, and their errors", c -> {
      ByteString e = c.key("e");
      LeaseScenarios.grant(c, 120, 0xe001);
      leader(c, 0, e);
      CampaignResponse won = campaign(c, 0, e, 0xe001, "a");
      leader(c, 0, e);
      // Another election whose name extends this one's is not part of it.
      c.call(ElectionGrpc.getCampaignMethod(), campaign(c.key("e2"), 0xe001, "other"));
      leader(c, 0, e);
      leader(c, 0, c.key(""));
      if (won != null) {
        LeaderKey l = won.getLeader();
        proclaim(c, 0, l, "a2");
        leader(c, 0, e);
        proclaim(c, 0, l.toBuilder().setRev(l.getRev() + 1).build(), "stale");
        proclaim(c, 0, l.toBuilder().setKey(ByteString.EMPTY).build(), "no key");
        proclaim(c, 0, null, "no leader field");
        resign(c, 0, null);
        resign(c, 0, l.toBuilder().setKey(ByteString.EMPTY).build());
        // The same lease again, another value: the key's revision stays, the value is proclaimed.
        campaign(c, 0, e, 0xe001, "a3");
        leader(c, 0, e);
        resign(c, 0, l.toBuilder().setRev(l.getRev() + 1).build());
        leader(c, 0, e);
        resign(c, 0, l);
        leader(c, 0, e);
        proclaim(c, 0, l, "after resign");
      }
      campaign(c, 0, e, 0xe0ff, "no such lease");
      campaign(c, 0, e, -0xe001, "negative lease");
      campaign(c, 0, ByteString.EMPTY, 0xe001, "empty name");
      candidates(c, ByteString.EMPTY);
      revoke(c, 0xe001);
    }));
    s.add(single("election: candidates wait for every older one; resign and revoke hand over", c -> {
      ByteString e = c.key("e");
      LeaseScenarios.grant(c, 120, 0xe101);
      LeaseScenarios.grant(c, 120, 0xe102);
      LeaseScenarios.grant(c, 120, 0xe103);
      CampaignResponse first = campaign(c, 0, e, 0xe101, "a");
      var second = c.start(0, ElectionGrpc.getCampaignMethod(), campaign(e, 0xe102, "b"));
      awaitCandidates(c, e, 2);
      var third = c.start(0, ElectionGrpc.getCampaignMethod(), campaign(e, 0xe103, "c"));
      awaitCandidates(c, e, 3);
      second.stillWaiting();
      third.stillWaiting();
      leader(c, 0, e);
      candidates(c, e);
      if (first != null) {
        resign(c, 0, first.getLeader());
      }
      second.await();
      third.stillWaiting();
      leader(c, 0, e);
      revoke(c, 0xe102);
      third.await();
      leader(c, 0, e);
      revoke(c, 0xe101, 0xe103);
      leader(c, 0, e);
    }));
    s.add(single("election: observe follows the leader, its values, and the next leader", c -> {
      ByteString e = c.key("e");
      LeaseScenarios.grant(c, 120, 0xe201);
      LeaseScenarios.grant(c, 120, 0xe202);
      var o = c.serverStream(0, ElectionGrpc.getObserveMethod(), LeaderRequest.newBuilder().setName(e).build());
      o.quiet();
      CampaignResponse first = campaign(c, 0, e, 0xe201, "a");
      o.await(1);
      var second = c.start(0, ElectionGrpc.getCampaignMethod(), campaign(e, 0xe202, "b"));
      awaitCandidates(c, e, 2);
      o.quiet();
      if (first != null) {
        proclaim(c, 0, first.getLeader(), "a2");
        o.await(1);
        // A put on the leader's key is a new value too.
        KvScenarios.put(c, PutRequest.newBuilder().setKey(first.getLeader().getKey()).setValue(bytes("direct"))
            .setLease(0xe201));
        o.await(1);
        resign(c, 0, first.getLeader());
      }
      second.await();
      o.await(1);
      var late = c.serverStream(0, ElectionGrpc.getObserveMethod(), LeaderRequest.newBuilder().setName(e).build());
      late.await(1);
      revoke(c, 0xe202);
      o.quiet();
      late.quiet();
      o.cancel();
      late.cancel();
      revoke(c, 0xe201);
    }));
    s.add(single("election and lock: lease 0 gets a new 60 s lease for the call", c -> {
      ByteString e = c.key("e");
      CampaignResponse won = c.side.unrecorded(0, ElectionGrpc.getCampaignMethod(), campaign(e, 0, "v"));
      long lease = won.getLeader().getLease();
      c.note("campaign: a lease was chosen: " + (lease != 0));
      c.note("campaign: key is name/<lease in hex>: "
          + won.getLeader().getKey().equals(e.concat(bytes("/" + Long.toHexString(lease)))));
      LeaseTimeToLiveResponse ttl = c.side.unrecorded(0, LeaseGrpc.getLeaseTimeToLiveMethod(),
          LeaseTimeToLiveRequest.newBuilder().setID(lease).setKeys(true).build());
      c.note("campaign: the lease's granted TTL: " + ttl.getGrantedTTL() + ", keys: " + ttl.getKeysCount());
      LockResponse held = c.side.unrecorded(0, LockGrpc.getLockMethod(),
          LockRequest.newBuilder().setName(c.key("l")).build());
      long lockLease = Long.parseLong(held.getKey().toStringUtf8().substring(c.key("l/").size()), 16);
      ttl = c.side.unrecorded(0, LeaseGrpc.getLeaseTimeToLiveMethod(),
          LeaseTimeToLiveRequest.newBuilder().setID(lockLease).setKeys(true).build());
      c.note("lock: the lease's granted TTL: " + ttl.getGrantedTTL() + ", keys: " + ttl.getKeysCount());
      // Proclaim and Resign with lease 0 open a session too: each grants a lease (revoked here).
      Set<Long> before = leases(c);
      c.side.unrecorded(0, ElectionGrpc.getResignMethod(), ResignRequest.newBuilder()
          .setLeader(won.getLeader().toBuilder().setLease(0).setRev(1)).build());
      Set<Long> granted = leases(c);
      granted.removeAll(before);
      c.note("resign with lease 0: leases granted: " + granted.size());
      granted.forEach(id -> revokeUnrecorded(c, id));
      revokeUnrecorded(c, lease);
      revokeUnrecorded(c, lockLease);
      candidates(c, e);
    }));
    s.add(single("election and lock: a waiter whose client goes away is resigned or unlocked", c -> {
      ByteString e = c.key("e");
      ByteString l = c.key("l");
      LeaseScenarios.grant(c, 120, 0xe401);
      LeaseScenarios.grant(c, 120, 0xe402);
      campaign(c, 0, e, 0xe401, "a");
      lock(c, 0, l, 0xe401);
      // One at a time, so that each key's revision is the same on both sides.
      var campaign = c.start(0, ElectionGrpc.getCampaignMethod(), campaign(e, 0xe402, "b"));
      awaitCandidates(c, e, 2);
      var lock = c.start(0, LockGrpc.getLockMethod(), LockRequest.newBuilder().setName(l).setLease(0xe402).build());
      awaitCandidates(c, l, 2);
      campaign.stillWaiting();
      lock.stillWaiting();
      candidates(c, e);
      campaign.cancel();
      lock.cancel();
      awaitCandidates(c, e, 1);
      awaitCandidates(c, l, 1);
      candidates(c, e);
      candidates(c, l);
      // A deadline that passes is the client going away too.
      try {
        ClientCalls.blockingUnaryCall(c.side.channel(0), ElectionGrpc.getCampaignMethod(),
            CallOptions.DEFAULT.withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS), campaign(e, 0xe402, "b"));
        c.note("a waiting campaign was answered");
      } catch (StatusRuntimeException ex) {
        // Which code the client sees is a race on etcd: its own DEADLINE_EXCEEDED, or the server's
        // UNKNOWN "context deadline exceeded" when that comes first.
        c.note("a waiting campaign past the client's deadline failed");
      }
      awaitCandidates(c, e, 1);
      candidates(c, e);
      revoke(c, 0xe401, 0xe402);
    }));
    s.add(single("lock: acquire, re-enter, wait, unlock, and their errors", c -> {
      ByteString l = c.key("l");
      LeaseScenarios.grant(c, 120, 0x1501);
      LeaseScenarios.grant(c, 120, 0x1502);
      LockResponse held = lock(c, 0, l, 0x1501);
      lock(c, 0, l, 0x1501);
      var waiting = c.start(0, LockGrpc.getLockMethod(), LockRequest.newBuilder().setName(l).setLease(0x1502).build());
      awaitCandidates(c, l, 2);
      waiting.stillWaiting();
      candidates(c, l);
      if (held != null) {
        unlock(c, 0, held.getKey());
      }
      waiting.await();
      unlock(c, 0, c.key("absent"));
      unlock(c, 0, ByteString.EMPTY);
      lock(c, 0, l, 0x15ff);
      lock(c, 0, ByteString.EMPTY, 0x1501);
      // A lock and an election of the same name share their keys.
      c.call(ElectionGrpc.getLeaderMethod(), LeaderRequest.newBuilder().setName(l).build());
      revoke(c, 0x1501, 0x1502);
      candidates(c, l);
    }));
    s.add(single("lock: the holder's lease expiring passes the lock on", c -> {
      ByteString l = c.key("l");
      LeaseScenarios.grant(c, 3, 0x1601);
      LeaseScenarios.grant(c, 120, 0x1602);
      lock(c, 0, l, 0x1601);
      var waiting = c.start(0, LockGrpc.getLockMethod(), LockRequest.newBuilder().setName(l).setLease(0x1602).build());
      awaitCandidates(c, l, 2);
      waiting.await();
      candidates(c, l);
      revoke(c, 0x1602);
    }));
    s.add(cluster("election and lock on followers while leadership moves", c -> {
      ByteString e = c.key("e");
      ByteString l = c.key("l");
      LeaseScenarios.grant(c, 120, 0x1701);
      LeaseScenarios.grant(c, 120, 0x1702);
      CampaignResponse first = campaign(c, 1, e, 0x1701, "a");
      LockResponse held = lock(c, 2, l, 0x1701);
      var second = c.start(2, ElectionGrpc.getCampaignMethod(), campaign(e, 0x1702, "b"));
      awaitCandidates(c, e, 2);
      var waiting = c.start(1, LockGrpc.getLockMethod(), LockRequest.newBuilder().setName(l).setLease(0x1702).build());
      awaitCandidates(c, l, 2);
      var o = c.serverStream(2, ElectionGrpc.getObserveMethod(), LeaderRequest.newBuilder().setName(e).build());
      o.await(1);
      second.stillWaiting();
      waiting.stillWaiting();
      c.call(0, MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(1)).build());
      leader(c, 0, e);
      if (first != null) {
        proclaim(c, 0, first.getLeader(), "a2");
        o.await(1);
        resign(c, 2, first.getLeader());
      }
      second.await();
      o.await(1);
      if (held != null) {
        unlock(c, 0, held.getKey());
      }
      waiting.await();
      leader(c, 1, e);
      o.cancel();
      revoke(c, 0x1701, 0x1702);
    }));
    s.add(single("election and lock with auth: run as the caller, errors unmapped", c -> {
      String p = c.prefix().toStringUtf8();
      String user = p + "u";
      String role = p + "r";
      ByteString e = c.key("app/e");
      try {
        LeaseScenarios.grant(c, 120, 0x1801);
        LeaseScenarios.grant(c, 120, 0x1802);
        AuthScenarios.setUpUserAndEnable(c, user, role, Permission.Type.READWRITE, c.key("app/"), c.key("app0"));
        CampaignResponse won = campaign(c, 0, e, 0x1801, "a");
        leader(c, 0, e);
        campaign(c, 0, c.key("secret"), 0x1801, "denied");
        lock(c, 0, c.key("app/l"), 0x1801);
        lock(c, 0, c.key("secret"), 0x1801);
        unlock(c, 0, c.key("secret/1801"));
        var o = c.serverStream(0, ElectionGrpc.getObserveMethod(), LeaderRequest.newBuilder().setName(e).build());
        o.await(1);
        o.cancel();
        c.as(null);
        leader(c, 0, e);
        var anonymous = c.serverStream(0, ElectionGrpc.getObserveMethod(), LeaderRequest.newBuilder().setName(e).build());
        anonymous.await(1);
        if (won != null) {
          resign(c, 0, won.getLeader());
        }
        c.as("bogus-token");
        leader(c, 0, e);
        campaign(c, 0, e, 0x1802, "b");
      } finally {
        AuthScenarios.tearDown(c, List.of(user), List.of(role));
        c.as(null);
        revoke(c, 0x1801, 0x1802);
      }
    }));
    return s;
  }
}
