package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Recorder.bytes;
import static io.kvorum.tests.differential.Scenario.single;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.Compare;
import io.kvorum.proto.etcdserverpb.Compare.CompareResult;
import io.kvorum.proto.etcdserverpb.Compare.CompareTarget;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RequestOp;
import io.kvorum.proto.etcdserverpb.TxnRequest;
import io.kvorum.proto.etcdserverpb.TxnResponse;
import java.util.ArrayList;
import java.util.List;

/** Txn: every compare, both branches, nesting, duplicate keys, the operation limit. */
final class TxnScenarios {
  private TxnScenarios() {}

  static RequestOp put(Recorder c, String key, String value) {
    return RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(c.key(key)).setValue(bytes(value))).build();
  }

  static RequestOp get(Recorder c, String key) {
    return RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(c.key(key))).build();
  }

  static RequestOp delete(Recorder c, String key, String end) {
    DeleteRangeRequest.Builder d = DeleteRangeRequest.newBuilder().setKey(c.key(key));
    if (end != null) {
      d.setRangeEnd(c.key(end));
    }
    return RequestOp.newBuilder().setRequestDeleteRange(d.setPrevKv(true)).build();
  }

  static RequestOp txn(TxnRequest.Builder t) {
    return RequestOp.newBuilder().setRequestTxn(t).build();
  }

  static Compare.Builder cmp(Recorder c, String key, CompareTarget target, CompareResult result) {
    return Compare.newBuilder().setKey(c.key(key)).setTarget(target).setResult(result);
  }

  static TxnResponse txn(Recorder c, TxnRequest.Builder t) {
    return c.call(KVGrpc.getTxnMethod(), t.build());
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("txn compares every target with every result", c -> {
      long base = KvScenarios.fill(c);
      for (CompareTarget target : new CompareTarget[] {CompareTarget.VERSION, CompareTarget.CREATE,
          CompareTarget.MOD, CompareTarget.VALUE, CompareTarget.LEASE}) {
        for (CompareResult result : new CompareResult[] {CompareResult.EQUAL, CompareResult.GREATER,
            CompareResult.LESS, CompareResult.NOT_EQUAL}) {
          for (String key : new String[] {"d", "missing"}) {
            Compare.Builder cmp = cmp(c, key, target, result);
            switch (target) {
              case VERSION -> cmp.setVersion(2);
              case CREATE -> cmp.setCreateRevision(base - 4);
              case MOD -> cmp.setModRevision(base);
              case VALUE -> cmp.setValue(bytes("22"));
              default -> cmp.setLease(0);
            }
            txn(c, TxnRequest.newBuilder().addCompare(cmp).addSuccess(get(c, "d")).addFailure(get(c, "a")));
          }
        }
      }
    }));
    s.add(single("txn compare over a range and with no value set", c -> {
      KvScenarios.fill(c);
      txn(c, TxnRequest.newBuilder().addCompare(cmp(c, "a", CompareTarget.VERSION, CompareResult.GREATER)
          .setRangeEnd(c.key("z")).setVersion(0)).addSuccess(get(c, "a")));
      txn(c, TxnRequest.newBuilder().addCompare(cmp(c, "a", CompareTarget.VERSION, CompareResult.GREATER)
          .setRangeEnd(c.key("z")).setVersion(1)).addSuccess(get(c, "a")));
      txn(c, TxnRequest.newBuilder().addCompare(cmp(c, "a", CompareTarget.MOD, CompareResult.LESS)
          .setRangeEnd(ByteString.copyFrom(new byte[] {0})).setModRevision(Long.MAX_VALUE)));
      txn(c, TxnRequest.newBuilder().addCompare(cmp(c, "a", CompareTarget.VALUE, CompareResult.EQUAL)));
      txn(c, TxnRequest.newBuilder().addCompare(cmp(c, "a", CompareTarget.CREATE, CompareResult.EQUAL)));
      txn(c, TxnRequest.newBuilder().addCompare(cmp(c, "a", CompareTarget.VERSION, CompareResult.LESS)
          .setRangeEnd(c.key("a"))));
      txn(c, TxnRequest.newBuilder().addCompare(Compare.newBuilder().setKey(c.key("a")).setResultValue(9)
          .setVersion(2)));
    }));
    s.add(single("txn responses: headers of every nested response", c -> {
      KvScenarios.fill(c);
      txn(c, TxnRequest.newBuilder()
          .addSuccess(put(c, "p", "1"))
          .addSuccess(get(c, "p"))
          .addSuccess(delete(c, "b", null))
          .addSuccess(txn(TxnRequest.newBuilder()
              .addCompare(cmp(c, "p", CompareTarget.VERSION, CompareResult.EQUAL).setVersion(1))
              .addSuccess(put(c, "q", "2"))
              .addSuccess(get(c, "q"))
              .addSuccess(txn(TxnRequest.newBuilder().addSuccess(get(c, "a")))))));
      txn(c, TxnRequest.newBuilder().addSuccess(get(c, "a")).addSuccess(get(c, "zz")));
      txn(c, TxnRequest.newBuilder());
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.getDefaultInstance()));
    }));
    s.add(single("txn reads see the txn's own earlier writes", c -> {
      txn(c, TxnRequest.newBuilder()
          .addSuccess(put(c, "a", "1"))
          .addSuccess(get(c, "a"))
          .addSuccess(delete(c, "a", null))
          .addSuccess(get(c, "a"))
          .addSuccess(put(c, "b", "2"))
          .addSuccess(RequestOp.newBuilder().setRequestRange(
              RangeRequest.newBuilder().setKey(c.key("a")).setRangeEnd(c.key("z")).setCountOnly(true))));
    }));
    s.add(single("txn duplicate keys: puts, put and delete, nested, across branches", c -> {
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(put(c, "a", "2")));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(delete(c, "a", null)));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "b", "1")).addSuccess(delete(c, "a", "c")));
      txn(c, TxnRequest.newBuilder().addSuccess(delete(c, "a", "c")).addSuccess(delete(c, "b", "d")));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addFailure(put(c, "a", "2")));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1"))
          .addSuccess(txn(TxnRequest.newBuilder().addSuccess(put(c, "a", "2")))));
      txn(c, TxnRequest.newBuilder().addSuccess(delete(c, "a", "c"))
          .addSuccess(txn(TxnRequest.newBuilder().addFailure(put(c, "b", "2")))));
      txn(c, TxnRequest.newBuilder()
          .addSuccess(txn(TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addFailure(put(c, "a", "2"))))
          .addSuccess(txn(TxnRequest.newBuilder().addSuccess(put(c, "b", "1")))));
      txn(c, TxnRequest.newBuilder()
          .addSuccess(txn(TxnRequest.newBuilder().addSuccess(put(c, "a", "1"))))
          .addSuccess(txn(TxnRequest.newBuilder().addFailure(put(c, "a", "2")))));
      txn(c, TxnRequest.newBuilder().addSuccess(get(c, "a")).addSuccess(get(c, "a")).addSuccess(put(c, "a", "3")));
      c.get("a");
    }));
    s.add(single("txn with 128 and 129 operations, nested ops counted", c -> {
      for (int n : new int[] {128, 129}) {
        TxnRequest.Builder t = TxnRequest.newBuilder();
        for (int i = 0; i < n; i++) {
          t.addSuccess(put(c, "k" + i, "v"));
        }
        txn(c, t);
        TxnRequest.Builder cmps = TxnRequest.newBuilder();
        for (int i = 0; i < n; i++) {
          cmps.addCompare(cmp(c, "k" + i, CompareTarget.VERSION, CompareResult.GREATER).setVersion(0));
        }
        txn(c, cmps.addSuccess(get(c, "k0")));
        TxnRequest.Builder fail = TxnRequest.newBuilder();
        for (int i = 0; i < n; i++) {
          fail.addFailure(get(c, "k" + i));
        }
        TxnResponse r = txn(c, fail);
        c.note("responses: " + (r == null ? -1 : r.getResponsesCount()));
      }
      TxnRequest.Builder inner = TxnRequest.newBuilder();
      for (int i = 0; i < 100; i++) {
        inner.addSuccess(get(c, "k" + i));
      }
      TxnRequest.Builder outer = TxnRequest.newBuilder();
      for (int i = 0; i < 28; i++) {
        outer.addSuccess(get(c, "k" + i));
      }
      txn(c, outer.clone().addSuccess(txn(inner)));
      outer.addSuccess(put(c, "x", "y"));
      txn(c, outer.addSuccess(txn(inner)));
    }));
    s.add(single("txn with invalid operations: empty keys, ignore flags, future and compacted reads", c -> {
      long base = KvScenarios.fill(c);
      txn(c, TxnRequest.newBuilder().addCompare(Compare.newBuilder().setTarget(CompareTarget.VERSION)));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
          .setValue(bytes("v")))));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder())));
      txn(c, TxnRequest.newBuilder().addFailure(RequestOp.newBuilder().setRequestDeleteRange(
          DeleteRangeRequest.newBuilder())));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
          .setKey(c.key("a")).setIgnoreValue(true).setValue(bytes("x")))));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
          .setKey(c.key("absent")).setIgnoreValue(true))));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
          .setKey(c.key("a")).setValue(bytes("x")).setLease(0x7e57))));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
          .setKey(c.key("a")).setRevision(base + 10))));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "w", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestRange(RangeRequest.newBuilder().setKey(c.key("a")).setRevision(base + 10))));
      txn(c, TxnRequest.newBuilder().addSuccess(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder()
          .setKey(c.key("a")).setRevision(base - 2).setLimit(-3))));
      c.get("w");
    }));
    // Found by RandomSequencesIT: an op that fails after a write of the same txn stopped the member,
    // and a read at the txn's own new revision was served instead of refused.
    s.add(single("txn op failing after a write: unknown lease, missing key, compacted read", c -> {
      long base = KvScenarios.fill(c);
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestPut(PutRequest.newBuilder().setKey(c.key("b")).setValue(bytes("v")).setLease(0x7e58))));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestPut(PutRequest.newBuilder().setKey(c.key("missing")).setIgnoreValue(true))));
      c.call(KVGrpc.getCompactMethod(), io.kvorum.proto.etcdserverpb.CompactionRequest.newBuilder()
          .setRevision(base - 1).build());
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestRange(RangeRequest.newBuilder().setKey(c.key("a")).setRevision(base - 2))));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestRange(RangeRequest.newBuilder().setKey(c.key("a")).setRevision(-1))));
      c.put("c", "still serving");
      c.get("a");
    }));
    s.add(single("txn: nested compares see the state before the txn", c -> {
      c.put("a", "1");
      txn(c, TxnRequest.newBuilder()
          .addSuccess(put(c, "a", "2"))
          .addSuccess(txn(TxnRequest.newBuilder()
              .addCompare(cmp(c, "a", CompareTarget.VALUE, CompareResult.EQUAL).setValue(bytes("1")))
              .addSuccess(put(c, "b", "saw the old a")).addFailure(put(c, "b", "saw the new a")))));
      c.get("b");
      txn(c, TxnRequest.newBuilder()
          .addSuccess(delete(c, "a", null))
          .addSuccess(txn(TxnRequest.newBuilder()
              .addCompare(cmp(c, "a", CompareTarget.VERSION, CompareResult.GREATER).setVersion(0))
              .addSuccess(get(c, "a")).addFailure(get(c, "b")))));
    }));
    s.add(single("txn read at the revision the txn itself creates", c -> {
      long rev = c.revision();
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestRange(RangeRequest.newBuilder().setKey(c.key("a")).setRevision(rev + 1))));
      txn(c, TxnRequest.newBuilder().addSuccess(put(c, "a", "1")).addSuccess(RequestOp.newBuilder()
          .setRequestRange(RangeRequest.newBuilder().setKey(c.key("a")).setRevision(rev))));
      c.get("a");
    }));
    return s;
  }
}
