package io.kvorum.server.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvorum.server.storage.Schema.Bucket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A backend received as a snapshot: written to SST files, then replacing a backend's whole content. */
class SnapshotLoaderTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, String> content(Backend be, Bucket bucket) {
    Map<String, String> out = new TreeMap<>();
    try (ReadView v = be.snapshotView()) {
      v.scan(bucket, new byte[0], null, Long.MAX_VALUE, (k, val) -> {
        out.put(new String(k, StandardCharsets.UTF_8), new String(val, StandardCharsets.UTF_8));
        return true;
      });
    }
    return out;
  }

  @Test
  void replaceWith_installsExactlyTheSnapshot_inEveryBucket_andCanRunAgainAfterACrash() throws IOException {
    Path snap = dir.resolve("snap.kvsst");
    Map<String, String> keys = new TreeMap<>();
    try (SnapshotLoader l = new SnapshotLoader(snap)) {
      for (int i = 0; i < 1000; i++) {
        keys.put(String.format("k%05d", i), "v" + i);
      }
      for (Map.Entry<String, String> e : keys.entrySet()) {
        l.add(Bucket.KEY.diskName(), b(e.getKey()), b(e.getValue()));
      }
      l.add(Bucket.META.diskName(), b("m"), b("meta"));
      // LEASE and COMPACTION are empty in the snapshot.
      assertThat(l.finish()).isEqualTo(1001);
    }
    try (Backend be = Backend.open(dir.resolve("kv"))) {
      try (Batch batch = be.newBatch()) {
        batch.put(Bucket.KEY, b("k00001"), b("old"));
        batch.put(Bucket.KEY, b("zzz"), b("old, not in the snapshot"));
        batch.put(Bucket.LEASE, b("l"), b("old lease"));
        batch.put(Bucket.META, b("other"), b("old meta"));
        be.commit(batch);
      }
      try (ReadView before = be.snapshotView()) {
        be.replaceWith(snap);
        // A view opened before keeps seeing the old content.
        assertThat(before.get(Bucket.KEY, b("zzz"))).isNotNull();
      }
      assertThat(content(be, Bucket.KEY)).isEqualTo(keys);
      assertThat(content(be, Bucket.META)).isEqualTo(Map.of("m", "meta"));
      assertThat(content(be, Bucket.LEASE)).isEmpty();
      // Installing again (a restart after a crash midway) gives the same content; the files stay.
      be.replaceWith(snap);
      assertThat(content(be, Bucket.KEY)).isEqualTo(keys);
      assertThat(content(be, Bucket.META)).isEqualTo(Map.of("m", "meta"));
    }
    // The content survives a reopen (it is in RocksDB's files, not only in memory).
    try (Backend be = Backend.open(dir.resolve("kv"))) {
      assertThat(content(be, Bucket.KEY)).isEqualTo(keys);
    }
  }

  @Test
  void loader_refusesKeysOrBucketsOutOfOrder_andUnknownBuckets() throws IOException {
    try (SnapshotLoader l = new SnapshotLoader(dir.resolve("a"))) {
      l.add(Bucket.KEY.diskName(), b("b"), b("1"));
      assertThatThrownBy(() -> l.add(Bucket.KEY.diskName(), b("a"), b("2"))).hasMessageContaining("out of order");
    }
    try (SnapshotLoader l = new SnapshotLoader(dir.resolve("b"))) {
      l.add(Bucket.META.diskName(), b("a"), b("1"));
      assertThatThrownBy(() -> l.add(Bucket.KEY.diskName(), b("a"), b("2"))).hasMessageContaining("out of order");
    }
    try (SnapshotLoader l = new SnapshotLoader(dir.resolve("c"))) {
      assertThatThrownBy(() -> l.add("nope", b("a"), b("1"))).hasMessageContaining("unknown bucket");
    }
    SnapshotLoader.deleteTree(dir.resolve("a"));
    assertThat(Files.exists(dir.resolve("a"))).isFalse();
  }
}
