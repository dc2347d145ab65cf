package io.kvorum.tests.differential;

import static io.kvorum.tests.differential.Recorder.bytes;
import static io.kvorum.tests.differential.Scenario.single;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DeleteRangeRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.RangeRequest;
import io.kvorum.proto.etcdserverpb.RangeRequest.SortOrder;
import io.kvorum.proto.etcdserverpb.RangeRequest.SortTarget;
import java.util.ArrayList;
import java.util.List;

/** Range, Put, DeleteRange and Compact, with the edges clients hit. */
final class KvScenarios {
  private KvScenarios() {}

  static RangeRequest.Builder range(Recorder c, String key) {
    return RangeRequest.newBuilder().setKey(c.key(key));
  }

  /** [prefix+from, prefix+to) */
  static RangeRequest.Builder range(Recorder c, String from, String to) {
    return RangeRequest.newBuilder().setKey(c.key(from)).setRangeEnd(c.key(to));
  }

  static void range(Recorder c, RangeRequest.Builder r) {
    c.call(KVGrpc.getRangeMethod(), r.build());
  }

  static PutResponse put(Recorder c, PutRequest.Builder r) {
    return c.call(KVGrpc.getPutMethod(), r.build());
  }

  static void delete(Recorder c, DeleteRangeRequest.Builder r) {
    c.call(KVGrpc.getDeleteRangeMethod(), r.build());
  }

  /** Puts a, b, c, d, e with values and several versions, so sorts by every target differ. */
  static long fill(Recorder c) {
    c.put("c", "3");
    c.put("a", "5");
    c.put("e", "1");
    c.put("b", "4");
    c.put("d", "2");
    c.put("a", "55");
    c.put("d", "22");
    PutResponse last = c.put("d", "222");
    return last == null ? 0 : last.getHeader().getRevision();
  }

  static List<Scenario> all() {
    List<Scenario> s = new ArrayList<>();
    s.add(single("put then get, versions and prev_kv", c -> {
      c.put("k", "v1");
      c.put("k", "v2");
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setValue(bytes("v3")).setPrevKv(true));
      put(c, PutRequest.newBuilder().setKey(c.key("new")).setValue(bytes("x")).setPrevKv(true));
      c.get("k");
      c.get("missing");
    }));
    s.add(single("put with empty key, empty value, binary key", c -> {
      put(c, PutRequest.newBuilder().setValue(bytes("v")));
      put(c, PutRequest.newBuilder().setKey(c.key("empty-value")));
      put(c, PutRequest.newBuilder().setKey(c.key("bin\u0000\u0001")).setValue(ByteString.copyFrom(new byte[] {0, -1, 127})));
      c.get("empty-value");
      range(c, range(c, "bin\u0000\u0001"));
    }));
    s.add(single("put ignore_value and ignore_lease", c -> {
      put(c, PutRequest.newBuilder().setKey(c.key("absent")).setIgnoreValue(true));
      put(c, PutRequest.newBuilder().setKey(c.key("absent")).setIgnoreLease(true));
      c.put("k", "v");
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setIgnoreValue(true).setPrevKv(true));
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setIgnoreValue(true).setValue(bytes("x")));
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setIgnoreLease(true).setLease(1));
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setIgnoreLease(true).setValue(bytes("y")));
      c.get("k");
    }));
    s.add(single("requests with fields this version does not know", c -> {
      com.google.protobuf.UnknownFieldSet extra = com.google.protobuf.UnknownFieldSet.newBuilder()
          .addField(99, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(7).build())
          .addField(100, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
              .addLengthDelimited(bytes("x")).build()).build();
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setValue(bytes("v")).setUnknownFields(extra));
      range(c, range(c, "k").setUnknownFields(extra));
    }));
    s.add(single("put with a lease that does not exist", c -> {
      put(c, PutRequest.newBuilder().setKey(c.key("k")).setValue(bytes("v")).setLease(0x7e57));
      c.get("k");
      // Found by RandomSequencesIT: etcd checks the lease before the previous key of ignore_value.
      put(c, PutRequest.newBuilder().setKey(c.key("absent")).setIgnoreValue(true).setLease(0x7e57));
      put(c, PutRequest.newBuilder().setKey(c.key("absent")).setPrevKv(true).setLease(0x7e57));
    }));
    s.add(single("range with empty key", c -> {
      c.call(KVGrpc.getRangeMethod(), RangeRequest.getDefaultInstance());
      c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setRangeEnd(c.key("z")).setCountOnly(true).build());
    }));
    s.add(single("range limits: zero, one, negative, huge", c -> {
      fill(c);
      range(c, range(c, "a", "z").setLimit(0));
      range(c, range(c, "a", "z").setLimit(1));
      range(c, range(c, "a", "z").setLimit(5));
      range(c, range(c, "a", "z").setLimit(6));
      range(c, range(c, "a", "z").setLimit(-1));
      range(c, range(c, "a", "z").setLimit(Long.MIN_VALUE));
      range(c, range(c, "a", "z").setLimit(Long.MAX_VALUE));
      range(c, range(c, "a", "z").setLimit(2).setCountOnly(true));
      range(c, range(c, "a", "z").setLimit(2).setKeysOnly(true));
    }));
    s.add(single("range_end edges: \\0, 0xff prefix, before the key, equal to the key", c -> {
      fill(c);
      c.put("x\u00ff", "ff");
      put(c, PutRequest.newBuilder().setKey(c.prefix().concat(ByteString.copyFrom(new byte[] {'y', (byte) 0xff})))
          .setValue(bytes("y-ff")));
      put(c, PutRequest.newBuilder().setKey(c.prefix().concat(ByteString.copyFrom(new byte[] {'y', (byte) 0xff, (byte) 0xff})))
          .setValue(bytes("y-ff-ff")));
      put(c, PutRequest.newBuilder().setKey(c.prefix().concat(ByteString.copyFrom(new byte[] {'z'})))
          .setValue(bytes("z")));
      // From a key to the end of the keyspace; the prefix of everything with range_end \0 and key \0.
      range(c, range(c, "d").setRangeEnd(ByteString.copyFrom(new byte[] {0})).setKeysOnly(true));
      c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(ByteString.copyFrom(new byte[] {0}))
          .setRangeEnd(ByteString.copyFrom(new byte[] {0})).setCountOnly(true).build());
      // The prefix "y\xff": its range end is "z".
      range(c, RangeRequest.newBuilder().setKey(c.prefix().concat(ByteString.copyFrom(new byte[] {'y', (byte) 0xff})))
          .setRangeEnd(c.prefix().concat(ByteString.copyFrom(new byte[] {'z'}))));
      range(c, RangeRequest.newBuilder().setKey(c.prefix().concat(ByteString.copyFrom(new byte[] {'y'})))
          .setRangeEnd(c.prefix().concat(ByteString.copyFrom(new byte[] {'y', (byte) 0xff, (byte) 0xff, (byte) 0xff}))));
      range(c, range(c, "d", "b"));
      range(c, range(c, "c", "c"));
      range(c, range(c, "c", "c\u0000"));
    }));
    s.add(single("range at revisions: 0, negative, past, current, future", c -> {
      long base = fill(c);
      for (long rev : new long[] {0, -1, Long.MIN_VALUE, base - 3, base, base + 1, base + 1000, Long.MAX_VALUE}) {
        range(c, range(c, "a", "z").setRevision(rev).setKeysOnly(true));
      }
      range(c, range(c, "d").setRevision(base - 1));
      range(c, range(c, "a", "z").setRevision(base + 1).setSerializable(true));
    }));
    s.add(single("range sorted by every order and target, with and without limit", c -> {
      fill(c);
      for (SortOrder o : new SortOrder[] {SortOrder.NONE, SortOrder.ASCEND, SortOrder.DESCEND}) {
        for (SortTarget t : new SortTarget[] {SortTarget.KEY, SortTarget.VERSION, SortTarget.CREATE, SortTarget.MOD,
            SortTarget.VALUE}) {
          range(c, range(c, "a", "z").setSortOrder(o).setSortTarget(t));
          range(c, range(c, "a", "z").setSortOrder(o).setSortTarget(t).setLimit(2).setKeysOnly(true));
        }
      }
      // An order etcd does not know sorts nothing; an unknown target with it is never looked at.
      range(c, range(c, "a", "z").setSortOrderValue(7));
      range(c, range(c, "a", "z").setSortOrderValue(7).setSortTargetValue(9));
    }));
    s.add(single("keys_only and count_only with revision filters", c -> {
      long base = fill(c);
      long first = base - 7;
      range(c, range(c, "a", "z").setKeysOnly(true).setMinModRevision(first + 3));
      range(c, range(c, "a", "z").setKeysOnly(true).setMaxModRevision(first + 3));
      range(c, range(c, "a", "z").setCountOnly(true).setMinCreateRevision(first + 2));
      range(c, range(c, "a", "z").setCountOnly(true).setMaxCreateRevision(first + 2));
      range(c, range(c, "a", "z").setCountOnly(true).setKeysOnly(true));
      range(c, range(c, "a", "z").setMinModRevision(first + 3).setLimit(1));
      range(c, range(c, "a", "z").setMinModRevision(first + 3).setLimit(1).setCountOnly(true));
      range(c, range(c, "a", "z").setMaxCreateRevision(first + 2).setSortOrder(SortOrder.DESCEND)
          .setSortTarget(SortTarget.MOD));
      range(c, range(c, "a", "z").setMinModRevision(-5).setMaxModRevision(-1));
    }));
    s.add(single("serializable ranges", c -> {
      fill(c);
      range(c, range(c, "a", "z").setSerializable(true).setLimit(2));
      range(c, range(c, "missing").setSerializable(true));
    }));
    s.add(single("delete: single, range, prev_kv, missing, empty key", c -> {
      fill(c);
      delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("a")));
      delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("a")));
      delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("b")).setRangeEnd(c.key("d")).setPrevKv(true));
      delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("d")).setRangeEnd(c.key("c")));
      delete(c, DeleteRangeRequest.newBuilder());
      delete(c, DeleteRangeRequest.newBuilder().setKey(c.key("d")).setRangeEnd(ByteString.copyFrom(new byte[] {0}))
          .setPrevKv(true));
      range(c, range(c, "a", "z"));
    }));
    s.add(single("requests just under and over --max-request-bytes", c -> {
      int limit = Topology.MAX_REQUEST_BYTES;
      // Find where each side starts refusing: sizes around the limit, in small steps.
      for (int size = limit - 96; size <= limit + 16; size += 4) {
        put(c, PutRequest.newBuilder().setKey(c.key("big")).setValue(ByteString.copyFrom(new byte[size])));
      }
      // Over the limit but under the gRPC message limit (limit + 512 KiB), then over both.
      put(c, PutRequest.newBuilder().setKey(c.key("big")).setValue(ByteString.copyFrom(new byte[256 * 1024])));
      put(c, PutRequest.newBuilder().setKey(c.key("big")).setValue(ByteString.copyFrom(new byte[limit + 600 * 1024])));
      range(c, range(c, "big").setKeysOnly(true));
      c.call(KVGrpc.getRangeMethod(), RangeRequest.newBuilder().setKey(c.key("big"))
          .setRangeEnd(ByteString.copyFrom(new byte[limit])).setCountOnly(true).build());
    }));
    s.add(single("compact: current, past, compacted, future, zero, negative, physical", c -> {
      long base = fill(c);
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base - 4).build());
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base - 4).build());
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base - 5).build());
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base + 1).build());
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(0).build());
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(-1).build());
      range(c, range(c, "a", "z").setRevision(base - 5));
      range(c, range(c, "a", "z").setRevision(base - 4).setKeysOnly(true));
      range(c, range(c, "a", "z").setRevision(base - 3).setKeysOnly(true));
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(base).setPhysical(true).build());
      range(c, range(c, "a", "z").setRevision(base - 1));
      range(c, range(c, "a", "z").setRevision(base));
      c.put("a", "after");
      range(c, range(c, "a", "z").setRevision(base).setCountOnly(true));
    }));
    return s;
  }
}
