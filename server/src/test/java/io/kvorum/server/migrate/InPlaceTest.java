package io.kvorum.server.migrate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdinternalpb.InternalRaftRequest;
import io.kvorum.proto.etcdinternalpb.Request;
import io.kvorum.proto.etcdinternalpb.RequestHeader;
import io.kvorum.proto.etcdraftpb.ConfChange;
import io.kvorum.proto.etcdraftpb.ConfChangeType;
import io.kvorum.proto.etcdraftpb.Entry;
import io.kvorum.proto.etcdraftpb.EntryType;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.leasepb.Lease;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.proto.serverpb.MembershipRecord;
import io.kvorum.server.auth.Passwords;
import io.kvorum.server.bolt.BoltWriter;
import io.kvorum.server.etcddata.SnapFixture;
import io.kvorum.server.etcddata.WalFixture;
import io.kvorum.server.mvcc.Revision;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.Schema;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An etcd data dir migrated where it lies: what the Kvorum member then holds (backend at the start
 * index, membership from the snap file, the entries after it in the log), etcd's files kept, a stop
 * midway redone or finished, and a refusal that leaves etcd's files as they were.
 */
class InPlaceTest {
  private static final long A = 0x8e9e05c52164694dL;
  private static final long CLUSTER = 0x77L;
  private static final Passwords PASSWORDS = new Passwords(Passwords.MIN_COST);

  @TempDir Path data;

  private static Entry addNode(long index, long id, String peer) {
    String ctx = "{\"id\":" + Long.toUnsignedString(id) + ",\"peerURLs\":[\"" + peer + "\"]}";
    return Entry.newBuilder().setIndex(index).setTerm(1).setType(EntryType.EntryConfChange)
        .setData(ConfChange.newBuilder().setType(ConfChangeType.ConfChangeAddNode).setNodeId(id)
            .setContext(ByteString.copyFromUtf8(ctx)).build().toByteString()).build();
  }

  private static Entry normal(long index, long term, com.google.protobuf.MessageLite m) {
    return Entry.newBuilder().setIndex(index).setTerm(term).setType(EntryType.EntryNormal).setData(m.toByteString())
        .build();
  }

  /**
   * One member's etcd data dir as etcdctl snapshot restore leaves it (consistent index 1, one
   * conf change), then {@code extra} entries a running member added after it (term 2), committed.
   */
  private void etcdDir(Entry... extra) throws IOException {
    Path snap = data.resolve("member/snap");
    Files.createDirectories(snap);
    try (BoltWriter w = new BoltWriter(snap.resolve("db"))) {
      w.beginBucket(bytes("key"));
      w.put(new Revision(2, 0).toKey(), KeyValue.newBuilder().setKey(ByteString.copyFromUtf8("a")).setCreateRevision(2)
          .setModRevision(2).setVersion(1).setValue(ByteString.copyFromUtf8("1")).build().toByteArray());
      w.beginBucket(bytes("lease"));
      w.put(ByteBuffer.allocate(8).putLong(9).array(), Lease.newBuilder().setID(9).setTTL(60).build().toByteArray());
      w.beginBucket(bytes("members"));
      w.put(bytes("123"), bytes("{\"id\":291,\"peerURLs\":[\"http://old:2380\"]}"));
      w.beginBucket(bytes("meta"));
      w.put(bytes("consistent_index"), ByteBuffer.allocate(8).putLong(1).array());
      w.finish(5);
    }
    String store = SnapFixture.storeJson(null, new String[0],
        new Object[] {Long.toHexString(A), "http://127.0.0.1:2380", null, false});
    SnapFixture.write(snap, SnapFixture.snapshot(1, 1, store, A));
    WalFixture wal = new WalFixture().startFile().metadata(A, CLUSTER).snapshot(0, 0)
        .entry(addNode(1, A, "http://127.0.0.1:2380")).state(1, A, 1).snapshot(1, 1);
    for (Entry e : extra) {
      wal.entry(e);
    }
    if (extra.length > 0) {
      wal.state(2, A, extra[extra.length - 1].getIndex());
    }
    wal.write(data.resolve("member/wal"), 0, 0);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void migrateIfEtcd_restoredDir_becomesKvorumsAndKeepsEtcds() throws IOException {
    etcdDir();
    assertThat(InPlace.migrateIfEtcd(data, Optional.empty(), () -> PASSWORDS)).isTrue();
    assertThat(data.resolve("member.etcd/snap/db")).isRegularFile();
    assertThat(data.resolve(InPlace.STAGING)).doesNotExist();
    assertThat(data.resolve("member").resolve(InPlace.COMPLETE)).doesNotExist();
    try (Backend b = Backend.open(data.resolve("member/kv"))) {
      assertThat(b.consistentIndex()).isEqualTo(new ConsistentIndex(1, 1));
      assertThat(KeyValue.parseFrom(b.get(Schema.Bucket.KEY, new Revision(2, 0).toKey())).getValue().toStringUtf8())
          .isEqualTo("1");
      assertThat(Schema.readLeaseValue(b.get(Schema.Bucket.LEASE, Schema.leaseKey(9)))).containsExactly(60, 0);
      MembershipRecord m = MembershipRecord.parseFrom(b.get(Schema.Bucket.META, Schema.membershipKey()));
      // The members come from the snap file, not from the database's stale members bucket.
      assertThat(m.getMembersList()).extracting(x -> x.getID()).containsExactly(A);
      assertThat(m.getMembers(0).getPeerURLsList()).containsExactly("http://127.0.0.1:2380");
    }
    try (RaftStorage s = RaftStorage.open(data.resolve("member"))) {
      assertThat(s.memory().snapshot().index()).isEqualTo(1);
      assertThat(s.memory().snapshot().metadata().confState().voters()).containsExactly(A);
      assertThat(ByteBuffer.wrap(s.metadata()).getLong()).isEqualTo(A);
      assertThat(ByteBuffer.wrap(s.metadata()).getLong(8)).isEqualTo(CLUSTER);
    }
    // A second start finds Kvorum's data and leaves it alone.
    assertThat(InPlace.migrateIfEtcd(data, Optional.empty(), () -> PASSWORDS)).isFalse();
  }

  @Test
  void migrateIfEtcd_entriesAfterTheConsistentIndex_areCarriedIntoKvorumsLog() throws Exception {
    PutRequest put = PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("b")).setValue(ByteString.copyFromUtf8("2"))
        .build();
    etcdDir(Entry.newBuilder().setIndex(2).setTerm(2).setType(EntryType.EntryNormal).build(),
        normal(3, 2, InternalRaftRequest.newBuilder().setHeader(RequestHeader.newBuilder().setID(42)).setPut(put)
            .build()));
    assertThat(InPlace.migrateIfEtcd(data, Optional.empty(), () -> PASSWORDS)).isTrue();
    try (RaftStorage s = RaftStorage.open(data.resolve("member"))) {
      assertThat(s.memory().snapshot().index()).isEqualTo(1);
      assertThat(s.memory().lastIndex()).isEqualTo(3);
      io.kvorum.raft.Entry noop = s.memory().entries(2, 3, Long.MAX_VALUE).get(0);
      assertThat(noop.term()).isEqualTo(2);
      assertThat(noop.data()).isEmpty();
      io.kvorum.raft.Entry e = s.memory().entries(3, 4, Long.MAX_VALUE).get(0);
      assertThat(e.term()).isEqualTo(2);
      io.kvorum.proto.serverpb.InternalRaftRequest r = io.kvorum.proto.serverpb.InternalRaftRequest.parseFrom(e.data());
      assertThat(r.getPut()).isEqualTo(put);
      assertThat(r.getHeader().getId()).isEqualTo(42);
      assertThat(s.memory().hardState().commit()).isEqualTo(3);
    }
  }

  @Test
  void migrateIfEtcd_anEntryKvorumCannotTake_isRefusedAndEtcdsFilesStay() throws IOException {
    etcdDir(normal(2, 2, Request.newBuilder().setMethod("PUT").setPath("/1/some/v2/key").setVal("x").build()));
    assertThatThrownBy(() -> InPlace.migrateIfEtcd(data, Optional.empty(), () -> PASSWORDS))
        .isInstanceOf(IOException.class).hasMessageContaining("cannot migrate entry 2").hasMessageContaining("v2");
    assertThat(data.resolve("member/snap/db")).isRegularFile();
    assertThat(data.resolve("member/kv")).doesNotExist();
    assertThat(data.resolve("member.etcd")).doesNotExist();
  }

  @Test
  void migrateIfEtcd_unfinishedStaging_isRemovedAndRedone() throws IOException {
    etcdDir();
    Files.createDirectories(data.resolve(InPlace.STAGING).resolve("kv"));
    Files.write(data.resolve(InPlace.STAGING).resolve("junk"), new byte[] {1});
    assertThat(InPlace.migrateIfEtcd(data, Optional.empty(), () -> PASSWORDS)).isTrue();
    assertThat(data.resolve("member/junk")).doesNotExist();
    assertThat(data.resolve("member/kv")).isDirectory();
  }

  @Test
  void migrateIfEtcd_stoppedBetweenTheRenames_finishesTheMove() throws IOException {
    etcdDir();
    Path staging = data.resolve(InPlace.STAGING);
    Migration.fromDataDir(data, Optional.empty(), new Migration.Target(staging, staging.resolve("wal")), PASSWORDS);
    Files.write(staging.resolve(InPlace.COMPLETE), new byte[0]);
    Files.move(data.resolve("member"), data.resolve(InPlace.KEPT));
    assertThat(InPlace.migrateIfEtcd(data, Optional.empty(), () -> PASSWORDS)).isTrue();
    assertThat(data.resolve("member/kv")).isDirectory();
    assertThat(data.resolve(InPlace.KEPT).resolve("snap/db")).isRegularFile();
    assertThat(staging).doesNotExist();
  }
}
