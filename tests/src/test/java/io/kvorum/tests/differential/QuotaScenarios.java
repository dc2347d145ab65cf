package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Scenario.cluster;
import static io.kvorum.tests.differential.Scenario.quota;
import static io.kvorum.tests.differential.Scenario.single;

import io.kvorum.proto.etcdserverpb.AlarmRequest;
import io.kvorum.proto.etcdserverpb.AlarmRequest.AlarmAction;
import io.kvorum.proto.etcdserverpb.AlarmResponse;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.HashKVRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Alarms and the backend quota: NOSPACE raised by a write that does not fit (a member whose quota
 * nothing fits in), and NOSPACE, CORRUPT and other alarms raised and disarmed by hand, with what
 * each lets through; every scenario disarms what it raised.
 */
final class QuotaScenarios {
  private QuotaScenarios() {}

  static AlarmResponse alarm(Recorder c, int member, AlarmAction action, long memberId, int type) {
    return c.call(member, MaintenanceGrpc.getAlarmMethod(), AlarmRequest.newBuilder().setAction(action)
        .setMemberID(memberId).setAlarmValue(type).build());
  }

  static AlarmResponse alarm(Recorder c, AlarmAction action, long memberId, int type) {
    return alarm(c, 0, action, memberId, type);
  }

  private static void status(Recorder c, int member) {
    c.call(member, MaintenanceGrpc.getStatusMethod(), StatusRequest.getDefaultInstance());
  }

  private static TxnRequest.Builder txn(RequestOp.Builder... ops) {
    TxnRequest.Builder b = TxnRequest.newBuilder();
    for (RequestOp.Builder op : ops) {
      b.addSuccess(op);
    }
    return b;
  }

  /** Every write and read a raised alarm decides about, once. */
  private static void everyRequest(Recorder c) {
    c.call(KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("k")).setValue(Recorder.bytes("v")).build());
    c.call(KVGrpc.getTxnMethod(), TxnRequest.newBuilder().addFailure(RequestOp.newBuilder().setRequestPut(
        PutRequest.newBuilder().setKey(c.key("t")).setValue(Recorder.bytes("v")))).build());
    c.call(KVGrpc.getTxnMethod(), txn(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
        .setKey(c.key("a")))).build());
    c.call(KVGrpc.getTxnMethod(), txn(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder()
        .setKey(c.key("a")))).build());
    c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(c.key("a")).build());
    c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(c.key("a")).setSerializable(true).build());
    c.call(KVGrpc.getDeleteRangeMethod(), DeleteRangeRequest.newBuilder().setKey(c.key("a")).build());
    LeaseScenarios.grant(c, 60, 0x7001);
    LeaseScenarios.revoke(c, 0x7002);
    c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(c.revision()).build());
    c.call(MaintenanceGrpc.getHashKVMethod(), HashKVRequest.getDefaultInstance());
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(quota("quota: a put that does not fit raises NOSPACE for the member asked; disarm; raised again", c -> {
      long m0 = c.side.memberId(0);
      c.call(KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("k")).setValue(Recorder.bytes("v")).build());
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
      alarm(c, AlarmAction.GET, 0, AlarmType.NOSPACE_VALUE);
      alarm(c, AlarmAction.GET, 0, AlarmType.CORRUPT_VALUE);
      status(c, 0);
      everyRequest(c);
      // Raised already: activating it again answers the same alarm.
      alarm(c, AlarmAction.ACTIVATE, m0, AlarmType.NOSPACE_VALUE);
      alarm(c, AlarmAction.DEACTIVATE, 0, AlarmType.NOSPACE_VALUE);
      alarm(c, AlarmAction.DEACTIVATE, m0, AlarmType.NOSPACE_VALUE);
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
      status(c, 0);
      // Still over the quota: the next write raises it again.
      c.call(KVGrpc.getTxnMethod(), TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(
          PutRequest.newBuilder().setKey(c.key("t")).setValue(Recorder.bytes("v")))).build());
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
      alarm(c, AlarmAction.DEACTIVATE, m0, AlarmType.NOSPACE_VALUE);
    }));
    s.add(quota("quota: a lease grant that does not fit raises NOSPACE; reads and free writes go on", c -> {
      LeaseScenarios.grant(c, 60, 0x7101);
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
      alarm(c, AlarmAction.DEACTIVATE, c.side.memberId(0), AlarmType.NOSPACE_VALUE);
      // Writes that cost nothing pass the check without raising it.
      c.call(KVGrpc.getTxnMethod(), txn(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
          .setKey(c.key("a")))).build());
      c.call(KVGrpc.getDeleteRangeMethod(), DeleteRangeRequest.newBuilder().setKey(c.key("a")).build());
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
    }));
    s.add(single("alarm: CORRUPT raised by hand refuses KV and lease writes, serves reads; disarmed", c -> {
      c.put("a", "1");
      alarm(c, AlarmAction.ACTIVATE, 0, AlarmType.CORRUPT_VALUE);
      alarm(c, AlarmAction.GET, 0, AlarmType.CORRUPT_VALUE);
      status(c, 0);
      everyRequest(c);
      alarm(c, AlarmAction.DEACTIVATE, 0, AlarmType.CORRUPT_VALUE);
      c.put("a", "2");
      status(c, 0);
    }));
    s.add(single("alarm: NOSPACE raised by hand for another member caps writes; disarmed", c -> {
      c.put("a", "1");
      alarm(c, AlarmAction.ACTIVATE, 0x1234, AlarmType.NOSPACE_VALUE);
      everyRequest(c);
      alarm(c, AlarmAction.DEACTIVATE, 0x1234, AlarmType.NOSPACE_VALUE);
      c.put("a", "2");
    }));
    s.add(single("alarm: NONE and an unknown type are kept as raised; list by type; disarm each", c -> {
      long m0 = c.side.memberId(0);
      alarm(c, AlarmAction.ACTIVATE, m0, AlarmType.NONE_VALUE);
      alarm(c, AlarmAction.ACTIVATE, m0, 7);
      alarm(c, AlarmAction.ACTIVATE, 0x99, 7);
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
      alarm(c, AlarmAction.GET, 0, 7);
      alarm(c, AlarmAction.GET, 0, AlarmType.NOSPACE_VALUE);
      status(c, 0);
      // Neither caps anything.
      c.put("a", "1");
      alarm(c, AlarmAction.DEACTIVATE, m0, AlarmType.NONE_VALUE);
      alarm(c, AlarmAction.DEACTIVATE, m0, 7);
      alarm(c, AlarmAction.DEACTIVATE, 0x99, 7);
      alarm(c, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
    }));
    s.add(cluster("alarm: raised through one member, listed by every member, disarmed through another", c -> {
      c.put("a", "1");
      alarm(c, 0, AlarmAction.ACTIVATE, c.side.memberId(1), AlarmType.NOSPACE_VALUE);
      for (int m = 0; m < 3; m++) {
        // A linearizable read first, so the member applied the alarm before it is asked for its status.
        c.call(m, KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(c.key("a")).build());
        status(c, m);
        alarm(c, m, AlarmAction.GET, 0, AlarmType.NONE_VALUE);
      }
      c.call(2, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("a")).setValue(Recorder.bytes("2")).build());
      alarm(c, 2, AlarmAction.DEACTIVATE, c.side.memberId(1), AlarmType.NOSPACE_VALUE);
      c.call(1, KVGrpc.getPutMethod(), PutRequest.newBuilder().setKey(c.key("a")).setValue(Recorder.bytes("3")).build());
    }));
    return s;
  }
}
