package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.single;

import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmRequest.AlarmAction;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.HashRequest;
import io.kvorum.proto.etcdserverpb.HashResponse;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.MoveLeaderRequest;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import java.util.ArrayList;
import java.util.List;

/** Status, Hash, HashKV, Alarm (listing), Defragment and MoveLeader on one member. */
final class MaintenanceScenarios {
  private MaintenanceScenarios() {}

  static HashResponse hash(Recorder c) {
    return c.call(MaintenanceGrpc.getHashMethod(), HashRequest.getDefaultInstance());
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("status", c -> {
      c.call(MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
      c.put("k", "v");
      c.call(MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
    }));
    s.add(single("HashKV at revisions: current, zero, past, compacted, future, negative", c -> {
      long base = KvScenarios.fill(c);
      for (long rev : new long[] {base, 0, base - 3, base + 1, base + 100, -1}) {
        c.call(MaintenanceGrpc.getHashKVMethod(), HashKVRequest.newBuilder().setRevision(rev).build());
      }
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base - 2).build());
      for (long rev : new long[] {base - 3, base - 2, base - 1, 0}) {
        c.call(MaintenanceGrpc.getHashKVMethod(), HashKVRequest.newBuilder().setRevision(rev).build());
      }
    }));
    s.add(single("Hash: stable without writes, changed by every write", c -> {
      HashResponse a = hash(c);
      HashResponse b = hash(c);
      c.put("k", "v");
      HashResponse afterPut = hash(c);
      KvScenarios.delete(c, io.kvorum.proto.etcdserverpb.DeleteRangeRequest.newBuilder().setKey(c.key("k")));
      HashResponse afterDelete = hash(c);
      LeaseScenarios.grant(c, 60, 0x6001);
      HashResponse afterGrant = hash(c);
      LeaseScenarios.revoke(c, 0x6001);
      if (a != null && b != null && afterPut != null && afterDelete != null && afterGrant != null) {
        c.note("stable: " + (a.getHash() == b.getHash()));
        c.note("changed by a put: " + (b.getHash() != afterPut.getHash()));
        c.note("changed by a delete: " + (afterPut.getHash() != afterDelete.getHash()));
        c.note("changed by a lease grant: " + (afterDelete.getHash() != afterGrant.getHash()));
      }
    }));
    s.add(single("alarm: list, list by type, deactivate what is not raised", c -> {
      c.call(MaintenanceGrpc.getAlarmMethod(), AlarmRequest.getDefaultInstance());
      c.call(MaintenanceGrpc.getAlarmMethod(), AlarmRequest.newBuilder().setAction(AlarmAction.GET)
          .setAlarm(AlarmType.NOSPACE).build());
      c.call(MaintenanceGrpc.getAlarmMethod(), AlarmRequest.newBuilder().setAction(AlarmAction.DEACTIVATE)
          .setAlarm(AlarmType.NOSPACE).setMemberID(c.side.memberId(0)).build());
      c.call(MaintenanceGrpc.getAlarmMethod(), AlarmRequest.getDefaultInstance());
    }));
    s.add(single("defragment", c -> {
      c.put("k", "v");
      c.call(MaintenanceGrpc.getDefragmentMethod(), DefragmentRequest.getDefaultInstance());
      c.get("k");
    }));
    s.add(single("move leader on one member: to itself, to an unknown id", c -> {
      c.call(MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(0)).build());
      c.call(MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder().setTargetID(0x1234).build());
    }));
    return s;
  }
}
