package io.kvorum.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.storage.Schema.Bucket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

class BackendTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void commit_batch_isVisibleAndSurvivesReopen(@TempDir Path dir) {
    try (Backend be = Backend.open(dir);
        Batch batch = be.newBatch()) {
      batch.put(Bucket.KEY, b("a"), b("1")).put(Bucket.META, b("x"), b("2"));
      assertThat(be.get(Bucket.KEY, b("a"))).isNull();
      be.commit(batch);
      assertThat(s(be.get(Bucket.KEY, b("a")))).isEqualTo("1");
      // Buckets are separate key spaces.
      assertThat(be.get(Bucket.META, b("a"))).isNull();
    }
    try (Backend be = Backend.open(dir)) {
      assertThat(s(be.get(Bucket.KEY, b("a")))).isEqualTo("1");
      assertThat(s(be.get(Bucket.META, b("x")))).isEqualTo("2");
    }
  }

  @Test
  void snapshotView_laterCommits_staysAtItsPointInTime(@TempDir Path dir) {
    try (Backend be = Backend.open(dir)) {
      put(be, Bucket.KEY, "a", "1");
      try (ReadView snap = be.snapshotView();
          ReadView live = be.liveView()) {
        put(be, Bucket.KEY, "a", "2");
        put(be, Bucket.KEY, "b", "3");
        assertThat(s(snap.get(Bucket.KEY, b("a")))).isEqualTo("1");
        assertThat(snap.get(Bucket.KEY, b("b"))).isNull();
        assertThat(snap.scan(Bucket.KEY, new byte[0], null, 100, (k, v) -> true)).isEqualTo(1);
        assertThat(s(live.get(Bucket.KEY, b("a")))).isEqualTo("2");
        assertThat(snap.isSnapshot()).isTrue();
        assertThat(live.isSnapshot()).isFalse();
      }
    }
  }

  @Test
  void close_flushesEveryFamily_soTheNextOpenHasNoLogToReplay(@TempDir Path dir) throws Exception {
    try (Backend be = Backend.open(dir)) {
      try (Batch batch = be.newBatch()) {
        for (int i = 0; i < 1000; i++) {
          batch.put(Bucket.KEY, java.nio.ByteBuffer.allocate(8).putLong(i).array(), new byte[100]);
        }
        batch.put(Bucket.META, new byte[] {1}, new byte[] {1});
        be.commit(batch);
      }
    }
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
      List<Path> logs = files.filter(p -> p.toString().endsWith(".log")).toList();
      for (Path log : logs) {
        assertThat(java.nio.file.Files.size(log)).as(log.toString()).isZero();
      }
    }
    try (Backend be = Backend.open(dir); ReadView v = be.snapshotView()) {
      assertThat(v.get(Bucket.META, new byte[] {1})).containsExactly(1);
      assertThat(v.scanKeys(Bucket.KEY, new byte[0], null, Long.MAX_VALUE, k -> true)).isEqualTo(1000);
    }
  }

  @Test
  void scanBulk_visitsFromKeyInOrder_growsForLargeValues_stops_andSeesItsSnapshot(@TempDir Path dir) {
    byte[] large = new byte[200 * 1024];
    java.util.Arrays.fill(large, (byte) 7);
    try (Backend be = Backend.open(dir)) {
      try (Batch batch = be.newBatch()) {
        batch.put(Bucket.KEY, new byte[] {0x01}, new byte[] {1});
        batch.put(Bucket.KEY, new byte[] {0x02}, large);
        batch.put(Bucket.KEY, new byte[] {(byte) 0x80}, new byte[] {3});
        batch.put(Bucket.KEY, new byte[] {(byte) 0xff}, new byte[] {4});
        be.commit(batch);
      }
      try (ReadView v = be.snapshotView()) {
        try (Batch batch = be.newBatch()) {
          batch.put(Bucket.KEY, new byte[] {0x03}, new byte[] {9});
          be.commit(batch);
        }
        List<String> seen = new ArrayList<>();
        long n = v.scanBulk(Bucket.KEY, new byte[] {0x02}, (k, val) -> {
          byte[] copy = new byte[val.remaining()];
          val.get(copy);
          seen.add((k[0] & 0xff) + ":" + copy.length + ":" + copy[0]);
          return true;
        });
        assertThat(n).isEqualTo(3);
        // The write after the view was taken is not seen; the 200 KiB value arrived whole.
        assertThat(seen).containsExactly("2:204800:7", "128:1:3", "255:1:4");

        seen.clear();
        n = v.scanBulk(Bucket.KEY, new byte[0], (k, val) -> seen.add(Integer.toString(k[0] & 0xff)) && seen.size() < 2);
        assertThat(n).isEqualTo(2);
        assertThat(seen).containsExactly("1", "2");
      }
    }
  }

  @Test
  void scan_boundsAndLimit_visitsKeysInUnsignedOrder(@TempDir Path dir) {
    try (Backend be = Backend.open(dir)) {
      try (Batch batch = be.newBatch()) {
        for (byte k : new byte[] {(byte) 0xff, 0x01, 0x7f, (byte) 0x80, 0x00}) {
          batch.put(Bucket.KEY, new byte[] {k}, new byte[] {k});
        }
        be.commit(batch);
      }
      try (ReadView v = be.snapshotView()) {
        List<Integer> seen = new ArrayList<>();
        v.scan(Bucket.KEY, new byte[] {0x01}, new byte[] {(byte) 0xff}, 100, (k, val) -> {
          assertThat(val).isEqualTo(k);
          return seen.add(k[0] & 0xff);
        });
        assertThat(seen).containsExactly(0x01, 0x7f, 0x80);

        seen.clear();
        long n = v.scanKeys(Bucket.KEY, new byte[0], null, 2, k -> seen.add(k[0] & 0xff));
        assertThat(n).isEqualTo(2);
        assertThat(seen).containsExactly(0x00, 0x01);

        seen.clear();
        v.scanKeys(Bucket.KEY, new byte[0], null, 100, k -> seen.add(k[0] & 0xff) && seen.size() < 3);
        assertThat(seen).containsExactly(0x00, 0x01, 0x7f);

        List<byte[]> got = v.getAll(Bucket.KEY, List.of(new byte[] {0x7f}, new byte[] {0x02}));
        assertThat(got.get(0)).isEqualTo(new byte[] {0x7f});
        assertThat(got.get(1)).isNull();
      }
    }
  }

  @Test
  void getAll_moreKeysThanOneMultiGet_returnsAllInOrder(@TempDir Path dir) {
    int n = ReadView.MULTI_GET_KEYS_MAX * 2 + 3;
    try (Backend be = Backend.open(dir)) {
      List<byte[]> keys = new ArrayList<>();
      try (Batch batch = be.newBatch()) {
        for (int i = 0; i < n; i++) {
          keys.add(Schema.longBytes(i));
          batch.put(Bucket.KEY, Schema.longBytes(i), Schema.longBytes(i * 7L));
        }
        be.commit(batch);
      }
      try (ReadView v = be.snapshotView()) {
        List<byte[]> got = v.getAll(Bucket.KEY, keys);
        assertThat(got).hasSize(n);
        for (int i = 0; i < n; i++) {
          assertThat(Schema.readLong(got.get(i), "v")).isEqualTo(i * 7L);
        }
      }
    }
  }

  @Test
  void deleteAndDeleteRange_removeExactlyTheirKeys(@TempDir Path dir) {
    try (Backend be = Backend.open(dir)) {
      for (String k : List.of("a", "b", "c", "d")) {
        put(be, Bucket.KEY, k, k);
      }
      try (Batch batch = be.newBatch()) {
        batch.delete(Bucket.KEY, b("a")).deleteRange(Bucket.KEY, b("b"), b("d"));
        assertThat(batch.count()).isEqualTo(2);
        assertThat(batch.sizeBytes()).isPositive();
        be.commit(batch);
      }
      List<String> left = new ArrayList<>();
      try (ReadView v = be.snapshotView()) {
        v.scanKeys(Bucket.KEY, new byte[0], null, 100, k -> left.add(s(k)));
      }
      assertThat(left).containsExactly("d");
    }
  }

  @Test
  void consistentIndex_writtenWithBatch_readBackAfterReopen(@TempDir Path dir) {
    try (Backend be = Backend.open(dir)) {
      assertThat(be.consistentIndex()).isEqualTo(ConsistentIndex.ZERO);
      try (Batch batch = be.newBatch()) {
        batch.put(Bucket.KEY, b("k"), b("v")).setConsistentIndex(new ConsistentIndex(42, 7));
        be.commit(batch);
      }
    }
    try (Backend be = Backend.open(dir)) {
      assertThat(be.consistentIndex()).isEqualTo(new ConsistentIndex(42, 7));
      assertThat(be.sizeBytes()).isPositive();
    }
  }

  @Test
  void close_withOpenView_keepsViewReadableAndRefusesNewWork(@TempDir Path dir) {
    Backend be = Backend.open(dir);
    put(be, Bucket.KEY, "a", "1");
    ReadView v = be.snapshotView();
    be.close();
    assertThat(be.isClosed()).isTrue();
    assertThat(s(v.get(Bucket.KEY, b("a")))).isEqualTo("1");
    assertThatThrownBy(be::snapshotView)
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("is closed");
    assertThatThrownBy(() -> be.get(Bucket.KEY, b("a"))).isInstanceOf(StorageException.class);
    v.close();
    v.close();
    be.close();
    assertThatThrownBy(() -> v.get(Bucket.KEY, b("a"))).isInstanceOf(IllegalStateException.class);
    // The database was released: it opens again.
    try (Backend again = Backend.open(dir)) {
      assertThat(s(again.get(Bucket.KEY, b("a")))).isEqualTo("1");
    }
  }

  @Test
  void open_otherSchemaVersion_isRefused(@TempDir Path dir) {
    try (Backend be = Backend.open(dir);
        Batch batch = be.newBatch()) {
      batch.put(Bucket.META, Schema.META_SCHEMA_VERSION, Schema.longBytes(99));
      be.commit(batch);
    }
    assertThatThrownBy(() -> Backend.open(dir))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("schema version 99");
  }

  @Test
  void open_unknownColumnFamily_isRefused(@TempDir Path dir) throws Exception {
    try (Backend be = Backend.open(dir)) {
      assertThat(be.dir()).isEqualTo(dir);
    }
    List<ColumnFamilyDescriptor> cfs = new ArrayList<>();
    cfs.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
    for (Bucket bucket : Bucket.values()) {
      cfs.add(new ColumnFamilyDescriptor(bucket.diskName().getBytes(StandardCharsets.UTF_8)));
    }
    cfs.add(new ColumnFamilyDescriptor(b("from-the-future")));
    List<ColumnFamilyHandle> handles = new ArrayList<>();
    try (DBOptions o = new DBOptions().setCreateMissingColumnFamilies(true);
        RocksDB db = RocksDB.open(o, dir.toString(), cfs, handles)) {
      handles.forEach(ColumnFamilyHandle::close);
      assertThat(db).isNotNull();
    }
    assertThatThrownBy(() -> Backend.open(dir))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("from-the-future");
  }

  @Test
  void defragment_dropsDeletedRecordsFromTheFiles_andKeepsTheRest(@TempDir Path dir) {
    try (Backend be = Backend.open(dir)) {
      byte[] value = new byte[1024];
      for (int i = 0; i < 2000; i++) {
        put(be, Bucket.KEY, String.format("k%05d", i), new String(value, StandardCharsets.ISO_8859_1));
      }
      try (Batch batch = be.newBatch()) {
        for (int i = 0; i < 1990; i++) {
          batch.delete(Bucket.KEY, b(String.format("k%05d", i)));
        }
        be.commit(batch);
      }
      long before = be.sizeBytes();
      be.defragment();
      assertThat(be.sizeBytes()).isLessThan(before / 10);
      assertThat(be.get(Bucket.KEY, b("k01995"))).hasSize(1024);
      assertThat(be.get(Bucket.KEY, b("k00005"))).isNull();
    }
  }

  @Test
  void alarmKey_roundTrips() {
    long[] read = Schema.readAlarmKey(Schema.alarmKey(0x8e9e05c52164694dL, 2));
    assertThat(read).containsExactly(0x8e9e05c52164694dL, 2);
    assertThat(Schema.readAlarmKey(Schema.alarmKey(0, -7))).containsExactly(0, -7);
    assertThatThrownBy(() -> Schema.readAlarmKey(new byte[3])).isInstanceOf(StorageException.class);
  }

  @Test
  void longBytes_roundTripsAndRejectsWrongLength() {
    for (long v : new long[] {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 0x0102030405060708L}) {
      assertThat(Schema.readLong(Schema.longBytes(v), "v")).isEqualTo(v);
    }
    assertThat(Schema.longBytes(0x0102030405060708L)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
    assertThatThrownBy(() -> Schema.readLong(new byte[3], "thing"))
        .isInstanceOf(StorageException.class)
        .hasMessage("storage: thing has 3 bytes, expected 8");
  }

  @Test
  void config_tooSmall_isRejectedWithItsLimit() {
    assertThatThrownBy(() -> new BackendConfig(1, BackendConfig.DEFAULT.blockCacheBytes()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("writeBufferBytes must be >= 65536, got 1");
    assertThat(Arrays.asList(Bucket.values())).extracting(Bucket::diskName)
        .containsExactly("key", "meta", "compaction", "lease", "auth", "authUsers", "authRoles", "alarm");
  }

  private static void put(Backend be, Bucket bucket, String k, String v) {
    try (Batch batch = be.newBatch()) {
      batch.put(bucket, b(k), b(v));
      be.commit(batch);
    }
  }
}
