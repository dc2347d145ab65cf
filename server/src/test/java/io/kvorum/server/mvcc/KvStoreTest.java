package io.kvorum.server.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.kvorum.proto.mvccpb.Event;
import io.kvorum.proto.mvccpb.KeyValue;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvStoreTest {
  private static final ConsistentIndex CI = ConsistentIndex.ZERO;

  @TempDir Path dir;
  private Backend backend;
  private ManualExecutor compactor;
  private KvStore store;

  @BeforeEach
  void open() {
    backend = Backend.open(dir);
    compactor = new ManualExecutor();
    store = KvStore.open(backend, KvStoreConfig.DEFAULT, compactor);
  }

  @AfterEach
  void close() {
    store.close();
    backend.close();
  }

  private void reopen() {
    close();
    open();
  }

  static ByteString b(String s) {
    return ByteString.copyFromUtf8(s);
  }

  static KeyValue kv(String key, String value, long create, long mod, long version, long lease) {
    return KeyValue.newBuilder()
        .setKey(b(key))
        .setValue(b(value))
        .setCreateRevision(create)
        .setModRevision(mod)
        .setVersion(version)
        .setLease(lease)
        .build();
  }

  private List<KeyValue> all() {
    return store.range(KeyRange.atLeast(ByteString.EMPTY), RangeOptions.DEFAULT).kvs();
  }

  @Test
  void open_emptyStore_isAtRevisionOneNeverCompacted() {
    assertThat(store.currentRevision()).isEqualTo(1);
    assertThat(store.compactRevision()).isEqualTo(-1);
    RangeResult r = store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT);
    assertThat(r).isEqualTo(new RangeResult(List.of(), 0, 1, false));
  }

  @Test
  void put_firstWrite_getsRevisionTwo() {
    assertThat(store.put(b("a"), b("1"), 0, CI)).isEqualTo(2);
    assertThat(all()).containsExactly(kv("a", "1", 2, 2, 1, 0));
  }

  @Test
  void put_existingKey_keepsCreateRevisionAndBumpsVersion() {
    store.put(b("a"), b("1"), 0, CI);
    store.put(b("b"), b("x"), 0, CI);
    store.put(b("a"), b("2"), 7, CI);
    assertThat(all()).containsExactly(kv("a", "2", 2, 4, 2, 7), kv("b", "x", 3, 3, 1, 0));
  }

  @Test
  void put_afterDelete_restartsVersionAndCreateRevision() {
    store.put(b("a"), b("1"), 0, CI);
    store.put(b("a"), b("2"), 0, CI);
    assertThat(store.deleteRange(KeyRange.single(b("a")), CI)).isEqualTo(new DeleteResult(1, 4));
    assertThat(all()).isEmpty();
    store.put(b("a"), b("3"), 0, CI);
    assertThat(all()).containsExactly(kv("a", "3", 5, 5, 1, 0));
    // The old generation still reads at its revisions.
    assertThat(store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(3)).kvs())
        .containsExactly(kv("a", "2", 2, 3, 2, 0));
    assertThat(store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(4)).kvs())
        .isEmpty();
  }

  @Test
  void deleteRange_nothingLive_keepsRevision() {
    store.put(b("a"), b("1"), 0, CI);
    assertThat(store.deleteRange(KeyRange.single(b("zz")), CI)).isEqualTo(new DeleteResult(0, 2));
    assertThat(store.currentRevision()).isEqualTo(2);
  }

  @Test
  void writeTxn_severalOps_shareOneMainRevisionWithIncreasingSubs() {
    store.put(b("a"), b("0"), 0, CI);
    try (WriteTxn txn = store.write(new ConsistentIndex(9, 2))) {
      assertThat(txn.beginRevision()).isEqualTo(2);
      assertThat(txn.put(b("b"), b("1"), 0)).isEqualTo(3);
      assertThat(txn.put(b("b"), b("2"), 5)).isEqualTo(3);
      // The txn sees its own writes.
      assertThat(txn.range(KeyRange.single(b("b")), RangeOptions.DEFAULT).kvs())
          .containsExactly(kv("b", "2", 3, 3, 2, 5));
      assertThat(txn.deleteRange(KeyRange.between(b("a"), b("c"))))
          .isEqualTo(new DeleteResult(2, 3));
      assertThat(txn.range(KeyRange.atLeast(b("")), RangeOptions.DEFAULT).count()).isZero();
      // Readers do not see it before it ends.
      assertThat(all()).containsExactly(kv("a", "0", 2, 2, 1, 0));
      assertThat(txn.changes()).extracting(Event::getType).containsExactly(
          Event.EventType.PUT, Event.EventType.PUT, Event.EventType.DELETE, Event.EventType.DELETE);
      assertThat(txn.changes().get(2).getKv())
          .isEqualTo(KeyValue.newBuilder().setKey(b("a")).setModRevision(3).build());
      assertThat(txn.end()).isEqualTo(3);
    }
    assertThat(store.consistentIndex()).isEqualTo(new ConsistentIndex(9, 2));
    assertThat(backend.consistentIndex()).isEqualTo(new ConsistentIndex(9, 2));
    // Sub revisions in the index: a at 3_2 (t), b at 3_0, 3_1, 3_3 (t).
    assertThat(store.index().keyIndex(b("b")).since(3))
        .containsExactly(new Revision(3, 3));
    assertThat(store.index().keyIndex(b("a")).since(3)).containsExactly(new Revision(3, 2));
  }

  @Test
  void writeTxn_noChanges_keepsRevisionAndWritesNothing() {
    try (WriteTxn txn = store.write(new ConsistentIndex(5, 1))) {
      assertThat(txn.deleteRange(KeyRange.single(b("x"))).revision()).isEqualTo(1);
      assertThat(txn.end()).isEqualTo(1);
    }
    assertThat(backend.consistentIndex()).isEqualTo(ConsistentIndex.ZERO);
  }

  @Test
  void write_secondWriterWhileOneIsOpen_isRefused() {
    try (WriteTxn txn = store.write(CI)) {
      assertThatThrownBy(() -> store.write(CI)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> store.compact(1, CI)).isInstanceOf(IllegalStateException.class);
      txn.end();
    }
    store.put(b("a"), b("1"), 0, CI);
  }

  @Test
  void write_consistentIndexBackwards_isRefused() {
    store.put(b("a"), b("1"), 0, new ConsistentIndex(10, 1));
    assertThatThrownBy(() -> store.write(new ConsistentIndex(9, 1)))
        .isInstanceOf(IllegalArgumentException.class);
    store.put(b("a"), b("1"), 0, new ConsistentIndex(10, 1));
  }

  @Test
  void writeTxn_abandonedAfterChanges_stopsTheStore() {
    WriteTxn txn = store.write(CI);
    txn.put(b("a"), b("1"), 0);
    txn.close();
    assertThatThrownBy(() -> store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT))
        .isInstanceOf(StoreClosedException.class)
        .hasMessage("mvcc: closed")
        .hasRootCauseMessage("mvcc: write txn at revision 2 abandoned after 1 changes");
  }

  @Test
  void range_limit_reportsCountAndMore() {
    for (String k : List.of("a", "b", "c", "d")) {
      store.put(b(k), b(k), 0, CI);
    }
    KeyRange abc = KeyRange.between(b("a"), b("d"));
    RangeResult r = store.range(abc, RangeOptions.DEFAULT.withLimit(2));
    assertThat(r.kvs()).extracting(KeyValue::getKey).containsExactly(b("a"), b("b"));
    assertThat(r.count()).isEqualTo(3);
    assertThat(r.more()).isTrue();
    assertThat(r.revision()).isEqualTo(5);
    assertThat(store.range(abc, RangeOptions.DEFAULT.withLimit(3)).more()).isFalse();
    assertThat(store.range(abc, RangeOptions.DEFAULT.withLimit(30)).kvs()).hasSize(3);

    RangeResult counted = store.range(abc, RangeOptions.DEFAULT.withLimit(1).countingOnly());
    assertThat(counted).isEqualTo(new RangeResult(List.of(), 3, 5, false));

    RangeResult keys = store.range(abc, RangeOptions.DEFAULT.keysOnlyOptions());
    assertThat(keys.kvs()).allSatisfy(kv -> assertThat(kv.getValue()).isEmpty());
    assertThat(keys.kvs()).extracting(KeyValue::getModRevision).containsExactly(2L, 3L, 4L);

    assertThat(store.range(KeyRange.between(b("c"), b("a")), RangeOptions.DEFAULT).count()).isZero();
    assertThat(store.range(KeyRange.prefix(b("")), RangeOptions.DEFAULT).count()).isEqualTo(4);
    assertThat(store.range(KeyRange.fromRequest(b("b"), b("\0")), RangeOptions.DEFAULT).count())
        .isEqualTo(3);
    assertThat(store.range(KeyRange.fromRequest(b("b"), ByteString.EMPTY), RangeOptions.DEFAULT)
        .kvs()).containsExactly(kv("b", "b", 3, 3, 1, 0));
  }

  @Test
  void range_futureOrCompactedRevision_failsWithEtcdErrors() {
    store.put(b("a"), b("1"), 0, CI);
    store.put(b("a"), b("2"), 0, CI);
    store.put(b("a"), b("3"), 0, CI);
    assertThatThrownBy(() -> store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(5)))
        .isInstanceOf(FutureRevisionException.class)
        .hasMessage("mvcc: required revision is a future revision")
        .satisfies(e -> assertThat(((FutureRevisionException) e).currentRevision()).isEqualTo(4));
    store.compact(3, CI);
    assertThatThrownBy(() -> store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(2)))
        .isInstanceOf(CompactedException.class)
        .hasMessage("mvcc: required revision has been compacted")
        .satisfies(e -> assertThat(((CompactedException) e).compactRevision()).isEqualTo(3));
    // The compaction revision itself still reads.
    assertThat(store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(3)).kvs())
        .containsExactly(kv("a", "2", 2, 3, 2, 0));
  }

  @Test
  void compact_atOrBelowCompactedOrInFuture_failsWithEtcdErrors() {
    store.put(b("a"), b("1"), 0, CI);
    assertThatThrownBy(() -> store.compact(3, CI)).isInstanceOf(FutureRevisionException.class);
    store.compact(2, CI);
    assertThatThrownBy(() -> store.compact(2, CI)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> store.compact(1, CI)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> store.hashKv(2)).isInstanceOf(CompactedException.class);
    assertThatThrownBy(() -> store.hashKv(3)).isInstanceOf(FutureRevisionException.class);
  }

  @Test
  void readTxn_keepsItsRevisionWhileWritesGoOn() {
    store.put(b("a"), b("1"), 0, CI);
    try (ReadTxn txn = store.read()) {
      store.put(b("a"), b("2"), 0, CI);
      store.put(b("b"), b("3"), 0, CI);
      assertThat(txn.revision()).isEqualTo(2);
      assertThat(txn.range(KeyRange.atLeast(b("")), RangeOptions.DEFAULT).kvs())
          .containsExactly(kv("a", "1", 2, 2, 1, 0));
      assertThatThrownBy(() -> txn.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(3)))
          .isInstanceOf(FutureRevisionException.class);
    }
  }

  @Test
  void reopen_rebuildsIndexStateAndLeases() {
    store.put(b("a"), b("1"), 0, CI);
    store.put(b("l"), b("x"), 42, CI);
    store.put(b("m"), b("y"), 43, CI);
    try (WriteTxn txn = store.write(new ConsistentIndex(77, 3))) {
      txn.put(b("a"), b("2"), 0);
      txn.deleteRange(KeyRange.single(b("m")));
      txn.put(b("b"), b("3"), 0);
      txn.end();
    }
    store.put(b("m"), b("z"), 0, new ConsistentIndex(78, 3));
    Index before = store.index();
    List<KeyValue> state = all();
    long hash = store.hashKv(0).hash();

    reopen();

    assertThat(store.index().sameAs(before)).as("%s vs %s", store.index(), before).isTrue();
    assertThat(all()).isEqualTo(state);
    assertThat(store.currentRevision()).isEqualTo(6);
    assertThat(store.consistentIndex()).isEqualTo(new ConsistentIndex(78, 3));
    assertThat(store.restoredLeases()).isEqualTo(Map.of(b("l"), 42L));
    assertThat(store.hashKv(0).hash()).isEqualTo(hash);
    assertThat(store.range(KeyRange.single(b("a")), RangeOptions.DEFAULT.atRevision(4)).kvs())
        .containsExactly(kv("a", "1", 2, 2, 1, 0));
    assertThat(store.put(b("a"), b("4"), 0, new ConsistentIndex(79, 3))).isEqualTo(7);
  }

  @Test
  void reload_withIndexRebuiltFromTheKeyBucketsRecords_equalsReadingTheBackend() {
    store.put(b("a"), b("1"), 0, CI);
    store.put(b("l"), b("x"), 42, CI);
    store.put(b("m"), b("y"), 43, CI);
    store.put(b("gone"), b("y"), 44, CI);
    try (WriteTxn txn = store.write(new ConsistentIndex(77, 3))) {
      txn.put(b("a"), b("2"), 0);
      txn.deleteRange(KeyRange.single(b("m")));
      txn.deleteRange(KeyRange.single(b("gone")));
      txn.put(b("b"), b("3"), 0);
      txn.end();
    }
    store.put(b("m"), b("z"), 0, new ConsistentIndex(78, 3));
    store.put(b("l"), b("x2"), 42, new ConsistentIndex(79, 3));
    Index before = store.index();
    List<KeyValue> state = all();

    // What a member receiving this backend does: every key-bucket record, in order, as bytes that
    // are slices of a larger chunk.
    IndexRebuild rebuilt = new IndexRebuild();
    try (io.kvorum.server.storage.ReadView v = backend.snapshotView()) {
      v.scan(io.kvorum.server.storage.Schema.Bucket.KEY, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        byte[] chunk = new byte[val.length + 8];
        System.arraycopy(val, 0, chunk, 4, val.length);
        rebuilt.add(k, ByteString.copyFrom(chunk).substring(4, 4 + val.length));
        return true;
      });
    }
    Map<ByteString, Long> leases = store.reload(rebuilt);

    assertThat(store.index().sameAs(before)).as("%s vs %s", store.index(), before).isTrue();
    assertThat(leases).isEqualTo(Map.of(b("l"), 42L));
    assertThat(all()).isEqualTo(state);
    assertThat(store.currentRevision()).isEqualTo(8);
    assertThat(store.range(KeyRange.single(b("m")), RangeOptions.DEFAULT.atRevision(4)).kvs())
        .containsExactly(kv("m", "y", 4, 4, 1, 43));
    assertThat(store.put(b("a"), b("4"), 0, new ConsistentIndex(80, 3))).isEqualTo(9);
  }

  /** Bytes the key bucket's records take: revision keys plus stored values. */
  private long storedBytes() {
    long[] total = {0};
    try (io.kvorum.server.storage.ReadView v = backend.snapshotView()) {
      v.scan(io.kvorum.server.storage.Schema.Bucket.KEY, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        total[0] += k.length + val.length;
        return true;
      });
    }
    return total[0];
  }

  @Test
  void sizeBytes_followsWrites_fallsWhenCompactionIsApplied_andSurvivesReopen() {
    assertThat(store.sizeBytes()).isZero();
    store.put(b("a"), b("1"), 0, CI);
    assertThat(store.sizeBytes()).isEqualTo(storedBytes())
        .isEqualTo(17 + kv("a", "1", 2, 2, 1, 0).getSerializedSize());
    store.put(b("a"), b("2".repeat(1000)), 0, CI);
    store.put(b("gone"), b("x"), 7, CI);
    store.deleteRange(KeyRange.single(b("gone")), CI);
    long written = storedBytes();
    assertThat(store.sizeBytes()).isEqualTo(written);

    // The compaction drops a=1 and every revision of "gone" at once, before the compactor runs.
    long rev = store.currentRevision();
    store.compact(rev, CI);
    long expected = written - (17 + kv("a", "1", 2, 2, 1, 0).getSerializedSize())
        - (17 + kv("gone", "x", 4, 4, 1, 7).getSerializedSize())
        - (18 + KeyValue.newBuilder().setKey(b("gone")).build().getSerializedSize());
    assertThat(store.sizeBytes()).isEqualTo(expected);
    assertThat(storedBytes()).isEqualTo(written);

    // Reopened before the physical deletion: the resumed compaction gives the same size.
    reopen();
    assertThat(store.sizeBytes()).isEqualTo(expected);
    compactor.runAll();
    assertThat(storedBytes()).isEqualTo(expected);
    reopen();
    assertThat(store.sizeBytes()).isEqualTo(expected);
  }

  @Test
  void indexRebuild_recordsOutOfRevisionOrder_areRefused() {
    store.put(b("a"), b("1"), 0, CI);
    store.put(b("a"), b("2"), 0, CI);
    List<byte[][]> records = new java.util.ArrayList<>();
    try (io.kvorum.server.storage.ReadView v = backend.snapshotView()) {
      v.scan(io.kvorum.server.storage.Schema.Bucket.KEY, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        records.add(new byte[][] {k, val});
        return true;
      });
    }
    IndexRebuild rebuilt = new IndexRebuild();
    rebuilt.add(records.get(1)[0], ByteString.copyFrom(records.get(1)[1]));
    assertThatThrownBy(() -> rebuilt.add(records.get(0)[0], ByteString.copyFrom(records.get(0)[1])))
        .isInstanceOf(io.kvorum.server.storage.StorageException.class)
        .hasMessageContaining("out of order");
  }

  @Test
  void close_thenCalls_failWithClosed() {
    store.close();
    assertThatThrownBy(store::read).isInstanceOf(StoreClosedException.class).hasMessage("mvcc: closed");
    assertThatThrownBy(() -> store.write(CI)).isInstanceOf(StoreClosedException.class);
  }

  @Test
  void put_emptyKey_isRejected() {
    try (WriteTxn txn = store.write(CI)) {
      assertThatThrownBy(() -> txn.put(ByteString.EMPTY, b("v"), 0))
          .isInstanceOf(IllegalArgumentException.class);
      txn.end();
    }
  }
}
