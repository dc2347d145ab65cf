package io.kvorum.tests.differential;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.ClusterGrpc;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MemberListRequest;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd and Kvorum in the same topology, kept for the whole run and shared by the
 * scenarios that need that topology. Before each scenario both sides must be in the same state
 * (same revision and HashKV, and for clusters the same member leading): a scenario that made
 * them diverge costs the next one a fresh pair, never a cascade of false differences.
 */
final class Pair implements AutoCloseable {
  private static final Map<Topology, Pair> OPEN = new EnumMap<>(Topology.class);

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Pair::closeAll, "differential-pairs-close"));
  }

  /** A little more than the 5 s of connectivity strict reconfiguration checks asks for. */
  static final long STRICT_RECONFIG_SETTLE_MS = 6_000;

  final Topology topology;
  Side etcd;
  Side kvorum;
  /** How many times a pair of this topology was started (1 when no scenario diverged). */
  int starts;

  private Pair(Topology topology) {
    this.topology = topology;
  }

  static synchronized Pair of(Topology t) throws Exception {
    Pair p = OPEN.get(t);
    if (p == null) {
      p = new Pair(t);
      p.restart();
      OPEN.put(t, p);
    }
    return p;
  }

  static synchronized void closeAll() {
    for (Pair p : OPEN.values()) {
      p.close();
    }
    OPEN.clear();
  }

  private void restart() throws Exception {
    close();
    starts++;
    etcd = Side.start(Side.Kind.ETCD, topology);
    kvorum = Side.start(Side.Kind.KVORUM, topology);
    if (topology.members > 1) {
      // --strict-reconfig-check refuses to add a voter until the leader has been connected to every
      // voter for 5 s (etcd's rule, and Kvorum's): let both clusters get there before a scenario.
      Thread.sleep(STRICT_RECONFIG_SETTLE_MS);
    }
  }

  /** Makes sure both sides are in the same state; starts a fresh pair if not. */
  void align() throws Exception {
    String why;
    try {
      if (topology == Topology.CLUSTER) {
        leadFromFirst(etcd);
        leadFromFirst(kvorum);
      }
      String e = fingerprint(etcd);
      String k = fingerprint(kvorum);
      if (e.equals(k)) {
        return;
      }
      why = "revision/HashKV: etcd " + e + ", Kvorum " + k;
    } catch (RuntimeException e) {
      why = e.toString();
    }
    // The output of the servers that diverged goes to the test's output, then a fresh pair starts.
    System.err.println("differential: sides diverged (" + why + "), starting a fresh " + topology + " pair\n"
        + etcd.logTails() + kvorum.logTails());
    restart();
    if (topology == Topology.CLUSTER) {
      leadFromFirst(etcd);
      leadFromFirst(kvorum);
    }
  }

  /** Moves leadership to m0 if another member leads, so member names mean the same role on both sides. */
  private static void leadFromFirst(Side s) {
    int leader = s.leaderIndex();
    if (leader != 0) {
      s.unrecorded(leader, MaintenanceGrpc.getMoveLeaderMethod(),
          MoveLeaderRequest.newBuilder().setTargetID(s.memberId(0)).build());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (s.leaderIndex() != 0 && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      }
    }
  }

  /** Revision and HashKV of every member: what must be equal across sides before a scenario. */
  private static String fingerprint(Side s) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < s.members.size(); i++) {
      // A linearizable read first, so a follower has applied everything; then revision 0 hashes the
      // current revision, which a scenario may have just compacted (asking for that revision by
      // number is then refused as compacted).
      s.unrecorded(i, KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("\0")).build());
      var hash = s.unrecorded(i, MaintenanceGrpc.getHashKVMethod(), HashKVRequest.newBuilder().setRevision(0).build());
      int members = s.unrecorded(i, ClusterGrpc.getMemberListMethod(), MemberListRequest.getDefaultInstance())
          .getMembersCount();
      int alarms = s.unrecorded(i, MaintenanceGrpc.getAlarmMethod(), AlarmRequest.getDefaultInstance()).getAlarmsCount();
      parts.add(hash.getHeader().getRevision() + "/" + hash.getHash() + "/" + hash.getCompactRevision() + "/" + members
          + " members/" + alarms + " alarms");
    }
    return String.join(",", parts);
  }

  @Override
  public void close() {
    for (Side s : new Side[] {etcd, kvorum}) {
      if (s != null) {
        s.close();
      }
    }
    etcd = null;
    kvorum = null;
  }
}
