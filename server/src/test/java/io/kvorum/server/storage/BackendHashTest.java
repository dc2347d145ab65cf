package io.kvorum.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.storage.Schema.Bucket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReadView#hash}: etcd's backend hash over every bucket of one RocksDB snapshot. */
class BackendHashTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static long hash(Backend be) {
    try (ReadView v = be.snapshotView()) {
      return v.hash();
    }
  }

  private static void put(Backend be, Bucket bucket, String k, String v) {
    try (Batch batch = be.newBatch()) {
      batch.put(bucket, b(k), b(v));
      be.commit(batch);
    }
  }

  private static void delete(Backend be, Bucket bucket, String k) {
    try (Batch batch = be.newBatch()) {
      batch.delete(bucket, b(k));
      be.commit(batch);
    }
  }

  private static void setConsistentIndex(Backend be, long index, long term) {
    try (Batch batch = be.newBatch()) {
      batch.setConsistentIndex(new ConsistentIndex(index, term));
      be.commit(batch);
    }
  }

  @Test
  void hash_noWrites_isStableAcrossViewsAndReopen() {
    long first;
    try (Backend be = Backend.open(dir)) {
      put(be, Bucket.KEY, "a", "1");
      first = hash(be);
      assertThat(hash(be)).isEqualTo(first);
    }
    try (Backend be = Backend.open(dir)) {
      assertThat(hash(be)).isEqualTo(first);
    }
  }

  @Test
  void hash_layout_isEveryBucketNameThenItsKeysAndValuesInDiskNameOrder() {
    try (Backend be = Backend.open(dir)) {
      put(be, Bucket.KEY, "k2", "v2");
      put(be, Bucket.KEY, "k1", "v1");
      put(be, Bucket.LEASE, "l", "x");
      put(be, Bucket.META, "m", "y");
      setConsistentIndex(be, 9, 2);

      CRC32C expected = new CRC32C();
      for (String part : new String[] {"alarm", "auth", "authRoles", "authUsers", "compaction", "key", "k1", "v1", "k2", "v2",
          "lease", "l", "x", "meta", "m", "y"}) {
        expected.update(b(part));
      }
      // "m" < "schema_version": the version written on create comes last.
      expected.update(b("schema_version"));
      expected.update(Schema.longBytes(Schema.SCHEMA_VERSION));
      assertThat(hash(be)).isEqualTo(expected.getValue());
    }
  }

  @Test
  void hash_consistentIndexAndTerm_areLeftOut() {
    try (Backend be = Backend.open(dir)) {
      long before = hash(be);
      setConsistentIndex(be, 7, 3);
      assertThat(be.consistentIndex()).isEqualTo(new ConsistentIndex(7, 3));
      assertThat(hash(be)).isEqualTo(before);
      setConsistentIndex(be, 8, 4);
      assertThat(hash(be)).isEqualTo(before);
      // Only those two keys: any other meta key counts.
      put(be, Bucket.META, "consistent_index2", "x");
      assertThat(hash(be)).isNotEqualTo(before);
    }
  }

  @Test
  void hash_writeToAnyBucket_changesIt_andUndoingItRestoresIt() {
    try (Backend be = Backend.open(dir)) {
      long empty = hash(be);
      for (Bucket bucket : Bucket.values()) {
        put(be, bucket, "k", "v");
        long with = hash(be);
        assertThat(with).as(bucket.diskName()).isNotEqualTo(empty);
        put(be, bucket, "k", "w");
        assertThat(hash(be)).as(bucket.diskName() + " value").isNotEqualTo(with);
        delete(be, bucket, "k");
        assertThat(hash(be)).as(bucket.diskName() + " deleted").isEqualTo(empty);
      }
    }
  }

  @Test
  void hash_sameEntryInAnotherBucket_differs() {
    try (Backend a = Backend.open(dir.resolve("a"));
        Backend c = Backend.open(dir.resolve("c"))) {
      put(a, Bucket.KEY, "k", "v");
      put(c, Bucket.LEASE, "k", "v");
      assertThat(hash(a)).isNotEqualTo(hash(c));
    }
  }

  @Test
  void hash_snapshotView_ignoresCommitsAfterItWasTaken() {
    try (Backend be = Backend.open(dir)) {
      put(be, Bucket.KEY, "a", "1");
      long before = hash(be);
      try (ReadView v = be.snapshotView()) {
        put(be, Bucket.KEY, "b", "2");
        delete(be, Bucket.KEY, "a");
        assertThat(v.hash()).isEqualTo(before);
      }
      assertThat(hash(be)).isNotEqualTo(before);
    }
  }

  @Test
  void hash_liveView_isRefused() {
    try (Backend be = Backend.open(dir);
        ReadView live = be.liveView()) {
      assertThatThrownBy(live::hash).isInstanceOf(IllegalStateException.class)
          .hasMessage("storage: hash needs a snapshot view, not a live one");
    }
  }

  @Test
  void lastKey_isTheGreatestInUnsignedOrder_orNullWhenEmpty() {
    try (Backend be = Backend.open(dir)) {
      try (ReadView v = be.snapshotView()) {
        assertThat(v.lastKey(Bucket.KEY)).isNull();
      }
      try (Batch batch = be.newBatch()) {
        for (byte k : new byte[] {0x01, (byte) 0xff, 0x7f}) {
          batch.put(Bucket.KEY, new byte[] {k}, new byte[] {k});
        }
        be.commit(batch);
      }
      try (ReadView v = be.snapshotView()) {
        assertThat(v.lastKey(Bucket.KEY)).containsExactly((byte) 0xff);
        assertThat(v.lastKey(Bucket.LEASE)).isNull();
      }
    }
  }
}
