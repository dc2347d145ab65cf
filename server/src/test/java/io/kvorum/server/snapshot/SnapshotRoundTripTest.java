package io.kvorum.server.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.authpb.Permission;
import io.kvorum.proto.authpb.Role;
import io.kvorum.proto.authpb.User;
import io.kvorum.proto.etcdserverpb.AlarmMember;
import io.kvorum.proto.etcdserverpb.AlarmType;
import io.kvorum.proto.etcdserverpb.Member;
import io.kvorum.proto.leasepb.Lease;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.server.bolt.BoltReader;
import io.kvorum.server.mvcc.Revision;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.Batch;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.ReadView;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.storage.Schema.Bucket;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kvorum backend written as etcd's snapshot database and read back: every bucket etcd has, with
 * etcd's encodings, and the same records in Kvorum's buckets after the way back.
 */
class SnapshotRoundTripTest {
  @TempDir Path dir;

  private static final long MEMBER_A = 0x8e9e05c52164694dL;
  private static final long MEMBER_B = 0x1a2b3c4d5e6f7081L;

  private static byte[] kv(String key, long create, long mod, long version, String value, long lease) {
    return KeyValue.newBuilder().setKey(ByteString.copyFromUtf8(key)).setCreateRevision(create)
        .setModRevision(mod).setVersion(version).setValue(ByteString.copyFromUtf8(value)).setLease(lease)
        .build().toByteArray();
  }

  /** A backend with a record in every bucket, at consistent index 42 (term 3); compacted at 2. */
  private Backend filled(Path at) {
    Backend b = Backend.open(at);
    try (Batch batch = b.newBatch()) {
      batch.put(Bucket.KEY, new Revision(2, 0).toKey(), kv("a", 2, 2, 1, "1", 0));
      batch.put(Bucket.KEY, new Revision(3, 0).toKey(), kv("b", 3, 3, 1, "x".repeat(9000), 0));
      batch.put(Bucket.KEY, new Revision(4, 0).toKey(), kv("a", 2, 4, 2, "2", 0x77));
      batch.put(Bucket.KEY, new Revision(5, 0).toTombstoneKey(),
          KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("b")).build().toByteArray());
      for (int i = 0; i < 500; i++) {
        batch.put(Bucket.KEY, new Revision(6 + i, 0).toKey(), kv("k" + i, 6 + i, 6 + i, 1, "v" + i, 0));
      }
      batch.put(Bucket.COMPACTION, Schema.compactionScheduledKey(), Schema.longBytes(2));
      batch.put(Bucket.COMPACTION, Schema.compactionFinishedKey(), Schema.longBytes(2));
      batch.put(Bucket.LEASE, Schema.leaseKey(0x77), Schema.leaseValue(100, 60));
      batch.put(Bucket.LEASE, Schema.leaseKey(0x78), Schema.leaseValue(5, 0));
      batch.put(Bucket.AUTH, Schema.authEnabledKey(), new byte[] {1});
      batch.put(Bucket.AUTH, Schema.authRevisionKey(), Schema.longBytes(7));
      batch.put(Bucket.AUTH_USERS, bytes("root"), User.newBuilder().setName(ByteString.copyFromUtf8("root"))
          .setPassword(ByteString.copyFromUtf8("$2a$10$abcdefghijklmnopqrstuv")).addRoles("root").build().toByteArray());
      batch.put(Bucket.AUTH_ROLES, bytes("r"), Role.newBuilder().setName(ByteString.copyFromUtf8("r"))
          .addKeyPermission(Permission.newBuilder().setPermType(Permission.Type.READWRITE)
              .setKey(ByteString.copyFromUtf8("a")).setRangeEnd(ByteString.copyFromUtf8("b")))
          .build().toByteArray());
      batch.put(Bucket.ALARM, Schema.alarmKey(MEMBER_A, AlarmType.NOSPACE_VALUE), new byte[0]);
      batch.put(Bucket.META, Schema.membershipKey(), MembershipRecord.newBuilder()
          .addMembers(Member.newBuilder().setID(MEMBER_A).setName("a").addPeerURLs("http://127.0.0.1:2380")
              .addClientURLs("http://127.0.0.1:2379"))
          .addMembers(Member.newBuilder().setID(MEMBER_B).addPeerURLs("http://127.0.0.1:3380").setIsLearner(true))
          .addRemoved(0x99)
          .build().toByteArray());
      batch.setConsistentIndex(new ConsistentIndex(42, 3));
      b.commit(batch);
    }
    return b;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, String> bucket(BoltReader r, String name) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    r.forEach(bytes(name), (k, v) -> {
      byte[] vb = new byte[v.remaining()];
      v.duplicate().get(vb);
      out.put(java.util.HexFormat.of().formatHex(k), java.util.HexFormat.of().formatHex(vb));
      return true;
    });
    return out;
  }

  private static List<String> all(Backend b, Bucket bucket) {
    List<String> out = new ArrayList<>();
    try (ReadView v = b.snapshotView()) {
      v.scan(bucket, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        out.add(java.util.HexFormat.of().formatHex(k) + "=" + java.util.HexFormat.of().formatHex(val));
        return true;
      });
    }
    return out;
  }

  @Test
  void write_holdsEtcdsBucketsAndEncodings() throws IOException {
    Path file = dir.resolve("snap.db");
    SnapshotExporter.Exported e;
    try (Backend b = filled(dir.resolve("kv")); ReadView v = b.snapshotView()) {
      e = SnapshotExporter.write(v, file);
    }
    assertThat(e.revision()).isEqualTo(505);
    assertThat(e.consistentIndex()).isEqualTo(new ConsistentIndex(42, 3));
    assertThat(e.sizeBytes()).isEqualTo(Files.size(file));
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.bucketNames()).extracting(n -> new String(n, StandardCharsets.US_ASCII)).containsExactly(
          "alarm", "auth", "authRoles", "authUsers", "cluster", "key", "lease", "members", "members_removed", "meta");
      assertThat(bucket(r, "key")).hasSize(504);
      assertThat(bucket(r, "cluster")).containsExactly(Map.entry(hex("clusterVersion"), hex("3.4.0")));
      Map<String, String> meta = bucket(r, "meta");
      assertThat(meta.keySet()).containsExactly(hex("consistent_index"), hex("finishedCompactRev"),
          hex("scheduledCompactRev"));
      assertThat(meta.get(hex("consistent_index"))).isEqualTo("000000000000002a");
      assertThat(meta.get(hex("scheduledCompactRev"))).isEqualTo("0000000000000002" + "5f" + "0000000000000000");
      Map<String, String> leases = bucket(r, "lease");
      assertThat(leases).containsOnlyKeys("0000000000000077", "0000000000000078");
      assertThat(Lease.parseFrom(java.util.HexFormat.of().parseHex(leases.get("0000000000000077"))))
          .isEqualTo(Lease.newBuilder().setID(0x77).setTTL(100).setRemainingTTL(60).build());
      Map<String, String> alarms = bucket(r, "alarm");
      assertThat(alarms).hasSize(1);
      assertThat(AlarmMember.parseFrom(java.util.HexFormat.of().parseHex(alarms.keySet().iterator().next())))
          .isEqualTo(AlarmMember.newBuilder().setMemberID(MEMBER_A).setAlarm(AlarmType.NOSPACE).build());
      Map<String, String> members = bucket(r, "members");
      // Keys are Go's hex of the id, in byte order: "1a2b…" before "8e9e…".
      assertThat(members.keySet()).containsExactly(hex("1a2b3c4d5e6f7081"), hex("8e9e05c52164694d"));
      assertThat(text(members.get(hex("8e9e05c52164694d")))).isEqualTo(
          "{\"id\":10276657743932975437,\"peerURLs\":[\"http://127.0.0.1:2380\"],\"name\":\"a\","
              + "\"clientURLs\":[\"http://127.0.0.1:2379\"]}");
      assertThat(text(members.get(hex("1a2b3c4d5e6f7081")))).isEqualTo(
          "{\"id\":" + Long.toUnsignedString(MEMBER_B) + ",\"peerURLs\":[\"http://127.0.0.1:3380\"],\"isLearner\":true}");
      assertThat(bucket(r, "members_removed")).containsExactly(Map.entry(hex("99"), hex("removed")));
      assertThat(bucket(r, "authUsers")).hasSize(1);
      assertThat(bucket(r, "auth")).hasSize(2);
      assertThat(bucket(r, "auth").get(hex("authRevision"))).isEqualTo("0000000000000007");
    }
  }

  @Test
  void load_givesBackTheSameRecords() throws IOException {
    Path file = dir.resolve("snap.db");
    try (Backend from = filled(dir.resolve("kv"))) {
      try (ReadView v = from.snapshotView()) {
        SnapshotExporter.write(v, file);
      }
      MembershipRecord membership = MembershipRecord.newBuilder()
          .addMembers(Member.newBuilder().setID(5).addPeerURLs("http://127.0.0.1:4380")).build();
      Path sst = dir.resolve("sst");
      SnapshotImporter.Read read;
      try (BoltReader r = BoltReader.open(file); SnapshotLoader loader = new SnapshotLoader(sst)) {
        read = SnapshotImporter.load(r, loader, new ConsistentIndex(1, 1), membership);
        loader.finish();
      }
      assertThat(read.etcdConsistentIndex()).isEqualTo(42);
      assertThat(read.revision()).isEqualTo(505);
      assertThat(read.compactedRevision()).isEqualTo(2);
      try (Backend to = Backend.open(dir.resolve("kv2"))) {
        to.replaceWith(sst);
        for (Bucket b : List.of(Bucket.KEY, Bucket.COMPACTION, Bucket.LEASE, Bucket.AUTH, Bucket.AUTH_USERS,
            Bucket.AUTH_ROLES, Bucket.ALARM)) {
          assertThat(all(to, b)).as(b.diskName()).isEqualTo(all(from, b));
        }
        assertThat(to.consistentIndex()).isEqualTo(new ConsistentIndex(1, 1));
        assertThat(MembershipRecord.parseFrom(to.get(Bucket.META, Schema.membershipKey()))).isEqualTo(membership);
        assertThat(to.get(Bucket.META, Schema.schemaVersionKey())).isEqualTo(Schema.longBytes(Schema.SCHEMA_VERSION));
      }
    }
  }

  @Test
  void write_givesAnEmptyAuthStoreEtcdsFirstRevision() throws IOException {
    Path file = dir.resolve("snap.db");
    try (Backend b = Backend.open(dir.resolve("kv")); ReadView v = b.snapshotView()) {
      SnapshotExporter.write(v, file);
    }
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(bucket(r, "auth")).containsExactly(Map.entry(hex("authRevision"), "0000000000000001"));
      assertThat(bucket(r, "key")).isEmpty();
      assertThat(bucket(r, "members")).isEmpty();
    }
  }

  @Test
  void write_seesOnlyWhatTheViewSaw() throws IOException {
    Path file = dir.resolve("snap.db");
    try (Backend b = filled(dir.resolve("kv")); ReadView v = b.snapshotView()) {
      try (Batch batch = b.newBatch()) {
        batch.put(Bucket.KEY, new Revision(1000, 0).toKey(), kv("late", 1000, 1000, 1, "x", 0));
        batch.setConsistentIndex(new ConsistentIndex(43, 3));
        b.commit(batch);
      }
      SnapshotExporter.Exported e = SnapshotExporter.write(v, file);
      assertThat(e.revision()).isEqualTo(505);
      assertThat(e.consistentIndex().index()).isEqualTo(42);
    }
  }

  @Test
  void stream_sendsTheFileInChunksThenItsSha256_andRemovesIt() throws Exception {
    Path file = dir.resolve("snap.db");
    SnapshotExporter.Exported e;
    try (Backend b = filled(dir.resolve("kv")); ReadView v = b.snapshotView()) {
      e = SnapshotExporter.write(v, file);
    }
    byte[] content = Files.readAllBytes(file);
    java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
    List<Long> remaining = new ArrayList<>();
    byte[] hash;
    try (SnapshotStream s = new SnapshotStream(e)) {
      SnapshotStream.Chunk c;
      byte[] last = null;
      while ((c = s.next()) != null) {
        if (last != null) {
          got.write(last);
        }
        last = c.blob().toByteArray();
        remaining.add(c.remainingBytes());
        assertThat(c.blob().size()).isLessThanOrEqualTo(SnapshotStream.CHUNK_BYTES);
      }
      hash = last;
    }
    assertThat(got.toByteArray()).isEqualTo(content);
    assertThat(hash).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(content));
    assertThat(remaining.get(0)).isEqualTo(content.length - Math.min(SnapshotStream.CHUNK_BYTES, content.length));
    assertThat(remaining.get(remaining.size() - 2)).isZero();
    assertThat(remaining.get(remaining.size() - 1)).isZero();
    assertThat(file).doesNotExist();
  }

  @Test
  void load_refusesABoltFileThatIsNotEtcds() throws IOException {
    Path file = dir.resolve("other.db");
    try (io.kvorum.server.bolt.BoltWriter w = new io.kvorum.server.bolt.BoltWriter(file)) {
      w.beginBucket(bytes("widgets"));
      w.put(bytes("a"), bytes("b"));
      w.finish(1);
    }
    try (BoltReader r = BoltReader.open(file); SnapshotLoader loader = new SnapshotLoader(dir.resolve("sst"))) {
      assertThatThrownBy(() -> SnapshotImporter.load(r, loader, new ConsistentIndex(1, 1),
          MembershipRecord.getDefaultInstance()))
          .isInstanceOf(IOException.class).hasMessageContaining("not an etcd backend");
    }
  }

  private static String hex(String s) {
    return java.util.HexFormat.of().formatHex(bytes(s));
  }

  private static String text(String hex) {
    return new String(java.util.HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
  }
}
