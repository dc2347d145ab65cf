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
import io.kvorum.proto.etcdserverpb.SnapshotRequest;
import io.kvorum.proto.etcdserverpb.SnapshotResponse;
import io.kvorum.server.bolt.BoltReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/** Status, Hash, HashKV, Alarm (listing), Defragment, Snapshot and MoveLeader on one member. */
final class MaintenanceScenarios {
  private MaintenanceScenarios() {}

  /** Messages a snapshot of a scenario's few keys can take (32 KiB each). */
  private static final int SNAPSHOT_MESSAGES_MAX = 10_000;

  /**
   * What must be alike in two snapshot streams whose bytes differ (the database files are laid out
   * differently): how the stream is cut, the trailing hash, and what etcd's bbolt file holds.
   */
  static void describeSnapshot(Recorder c, List<SnapshotResponse> got) throws IOException {
    c.note("messages: more than one: " + (got.size() > 1));
    if (got.size() < 2) {
      return;
    }
    List<SnapshotResponse> data = got.subList(0, got.size() - 1);
    SnapshotResponse last = got.get(got.size() - 1);
    java.io.ByteArrayOutputStream file = new java.io.ByteArrayOutputStream();
    boolean full = true;
    boolean remainingRight = true;
    long total = data.stream().mapToLong(r -> r.getBlob().size()).sum();
    long sent = 0;
    for (int i = 0; i < data.size(); i++) {
      SnapshotResponse r = data.get(i);
      sent += r.getBlob().size();
      full &= i == data.size() - 1 ? r.getBlob().size() <= 32 * 1024 : r.getBlob().size() == 32 * 1024;
      remainingRight &= r.getRemainingBytes() == total - sent;
      r.getBlob().writeTo(file);
    }
    byte[] db = file.toByteArray();
    c.note("data messages of 32 KiB but the last: " + full);
    c.note("remaining bytes after each data message: " + remainingRight);
    c.note("headers set: " + got.stream().anyMatch(SnapshotResponse::hasHeader));
    try {
      c.note("last message: 32 bytes, nothing remaining, the SHA-256 of the data: "
          + (last.getRemainingBytes() == 0 && java.util.Arrays.equals(last.getBlob().toByteArray(),
              MessageDigest.getInstance("SHA-256").digest(db))));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    c.note("data is whole 4 KiB pages: " + (db.length % 4096 == 0));
    Path f = Files.createTempFile("kvorum-diff-snapshot", ".db");
    try {
      Files.write(f, db);
      try (BoltReader r = BoltReader.open(f)) {
        List<String> names = new ArrayList<>();
        for (byte[] n : r.bucketNames()) {
          names.add(new String(n, StandardCharsets.US_ASCII));
        }
        c.note("buckets: " + names);
        for (String b : List.of("key", "lease", "meta", "cluster", "members", "alarm", "auth")) {
          List<String> keys = new ArrayList<>();
          long n = r.forEach(b.getBytes(StandardCharsets.US_ASCII), (k, v) -> {
            keys.add(keyText(b, k, v));
            return true;
          });
          c.note(b + ": " + n + " records " + (b.equals("members") ? "" : keys));
        }
      }
    } finally {
      Files.deleteIfExists(f);
    }
  }

  /** A record of bucket {@code b} as a note shows it: what must be equal on both sides. */
  private static String keyText(String b, byte[] k, ByteBuffer v) {
    return switch (b) {
      case "key" -> ByteBuffer.wrap(k).getLong() + (k.length == 18 ? "t" : "") + "/" + v.remaining() + "B";
      case "lease" -> java.util.HexFormat.of().formatHex(k) + "=" + java.util.HexFormat.of().formatHex(bytes(v));
      case "cluster" -> new String(k, StandardCharsets.US_ASCII) + "=" + new String(bytes(v), StandardCharsets.US_ASCII);
      default -> new String(k, StandardCharsets.US_ASCII).replaceAll("[^ -~]", "?");
    };
  }

  private static byte[] bytes(ByteBuffer v) {
    byte[] out = new byte[v.remaining()];
    v.duplicate().get(out);
    return out;
  }

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
    s.add(single("snapshot: chunks, remaining bytes, the SHA-256 last, and a bbolt file with etcd's buckets", c -> {
      KvScenarios.fill(c);
      LeaseScenarios.grant(c, 600, 0x6002);
      c.call(KVGrpc.getCompactMethod(), CompactionRequest.newBuilder().setRevision(3).setPhysical(true).build());
      var stream = c.serverStream(0, MaintenanceGrpc.getSnapshotMethod(), SnapshotRequest.getDefaultInstance());
      describeSnapshot(c, stream.collectUnrecorded(SNAPSHOT_MESSAGES_MAX));
    }));
    s.add(single("move leader on one member: to itself, to an unknown id", c -> {
      c.call(MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder()
          .setTargetID(c.side.memberId(0)).build());
      c.call(MaintenanceGrpc.getMoveLeaderMethod(), MoveLeaderRequest.newBuilder().setTargetID(0x1234).build());
    }));
    return s;
  }
}
