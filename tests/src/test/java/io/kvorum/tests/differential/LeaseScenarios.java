package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Recorder.bytes;
import static io.kvorum.tests.differential.Scenario.single;

import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.LeaseGrantResponse;
import io.kvorum.proto.etcdserverpb.LeaseGrpc;
import io.kvorum.proto.etcdserverpb.LeaseKeepAliveRequest;
import io.kvorum.proto.etcdserverpb.LeaseLeasesRequest;
import io.kvorum.proto.etcdserverpb.LeaseRevokeRequest;
import io.kvorum.proto.etcdserverpb.LeaseTimeToLiveRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeResponse;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Leases: grant with every kind of TTL and id, revoke, keep-alive, time-to-live with keys, the
 * listing, keys attached and deleted with their lease. Explicit ids come from a range no other
 * scenario uses, so the listing of the shared member is the same on both sides.
 */
final class LeaseScenarios {
  private LeaseScenarios() {}

  static LeaseGrantResponse grant(Recorder c, long ttl, long id) {
    return c.call(LeaseGrpc.getLeaseGrantMethod(), LeaseGrantRequest.newBuilder().setTTL(ttl).setID(id).build());
  }

  static void revoke(Recorder c, long id) {
    c.call(LeaseGrpc.getLeaseRevokeMethod(), LeaseRevokeRequest.newBuilder().setID(id).build());
  }

  static void timeToLive(Recorder c, long id, boolean keys) {
    c.call(LeaseGrpc.getLeaseTimeToLiveMethod(), LeaseTimeToLiveRequest.newBuilder().setID(id).setKeys(keys).build());
  }

  static void leases(Recorder c) {
    c.call(LeaseGrpc.getLeaseLeasesMethod(), LeaseLeasesRequest.getDefaultInstance());
  }

  static void putWithLease(Recorder c, String key, long lease) {
    KvScenarios.put(c, PutRequest.newBuilder().setKey(c.key(key)).setValue(bytes("v")).setLease(lease));
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("lease grant: TTL zero, negative, minimum, huge, too large", c -> {
      for (long ttl : new long[] {0, -1, 1, 2, 3, 60, 9_000_000_000L, 9_000_000_001L, Long.MAX_VALUE,
          Long.MIN_VALUE}) {
        LeaseGrantResponse r = grant(c, ttl, 0);
        if (r != null) {
          c.note("server-chosen id is positive: " + (r.getID() > 0));
          revoke(c, r.getID());
        }
      }
    }));
    s.add(single("lease grant: explicit, duplicate and negative ids", c -> {
      grant(c, 60, 0x1001);
      grant(c, 60, 0x1001);
      grant(c, 30, 0x1001);
      grant(c, 60, -0x1002);
      grant(c, 60, Long.MAX_VALUE - 0x1003);
      timeToLive(c, 0x1001, false);
      timeToLive(c, -0x1002, false);
      leases(c);
      revoke(c, 0x1001);
      revoke(c, -0x1002);
      revoke(c, Long.MAX_VALUE - 0x1003);
      revoke(c, 0x1001);
      leases(c);
    }));
    s.add(single("lease revoke deletes its keys in one revision; unknown leases", c -> {
      grant(c, 120, 0x2001);
      putWithLease(c, "a", 0x2001);
      putWithLease(c, "b", 0x2001);
      putWithLease(c, "c", 0x2001);
      c.put("d", "no lease");
      timeToLive(c, 0x2001, true);
      var w = c.stream(WatchGrpc.getWatchMethod());
      w.send(WatchScenarios.create(WatchScenarios.on(c, "a", "z").setPrevKv(true)));
      w.await(1);
      revoke(c, 0x2001);
      w.await(1);
      KvScenarios.range(c, KvScenarios.range(c, "a", "z"));
      timeToLive(c, 0x2001, true);
      revoke(c, 0x2001);
      revoke(c, 0);
      timeToLive(c, 0, false);
      timeToLive(c, 0x2002, true);
      putWithLease(c, "e", 0x2001);
      w.quiet();
      w.cancel();
    }));
    s.add(single("lease: re-attaching a key, put with ignore_lease keeps it", c -> {
      grant(c, 120, 0x3001);
      grant(c, 120, 0x3002);
      putWithLease(c, "k", 0x3001);
      putWithLease(c, "k", 0x3002);
      timeToLive(c, 0x3001, true);
      timeToLive(c, 0x3002, true);
      KvScenarios.put(c, PutRequest.newBuilder().setKey(c.key("k")).setValue(bytes("new")).setIgnoreLease(true));
      c.get("k");
      c.put("k", "detached");
      timeToLive(c, 0x3002, true);
      c.get("k");
      revoke(c, 0x3001);
      revoke(c, 0x3002);
      c.get("k");
    }));
    s.add(single("lease keep-alive: known, unknown, several on one stream", c -> {
      grant(c, 120, 0x4001);
      grant(c, 5, 0x4002);
      var k = c.stream(LeaseGrpc.getLeaseKeepAliveMethod());
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x4001).build());
      k.await(1);
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x4009).build());
      k.await(1);
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x4002).build());
      k.await(1);
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0).build());
      k.await(1);
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x4001).build());
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x4001).build());
      k.await(2);
      revoke(c, 0x4001);
      k.send(LeaseKeepAliveRequest.newBuilder().setID(0x4001).build());
      k.await(1);
      k.finish();
      timeToLive(c, 0x4002, false);
      revoke(c, 0x4002);
    }));
    s.add(single("lease expiry deletes its keys", c -> {
      LeaseGrantResponse g = grant(c, 1, 0x5001);
      putWithLease(c, "k", 0x5001);
      timeToLive(c, 0x5001, true);
      // Wait (unrecorded) until the lease expired, then look.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (g != null && System.nanoTime() < deadline) {
        RangeResponse r = c.side.unrecorded(0, io.kvorum.proto.etcdserverpb.KVGrpc.getRangeMethod(),
            RangeRequest.newBuilder().setKey(c.key("k")).build());
        if (r.getCount() == 0) {
          break;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
      c.get("k");
      timeToLive(c, 0x5001, true);
      revoke(c, 0x5001);
    }));
    return s;
  }
}
