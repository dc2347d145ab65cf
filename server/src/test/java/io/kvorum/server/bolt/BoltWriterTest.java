package io.kvorum.server.bolt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BoltWriterTest {
  @TempDir
  Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void finish_withNoBuckets_writesBboltsEmptyDatabaseShape() throws IOException {
    Path file = dir.resolve("db");
    long length;
    try (BoltWriter w = new BoltWriter(file)) {
      length = w.finish(0);
    }
    // Like bbolt's init: metas 0 and 1, an empty root leaf, an empty freelist.
    assertThat(length).isEqualTo(4 * BoltWriter.PAGE_SIZE);
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.bucketNames()).isEmpty();
      assertThat(r.sizeBytes()).isEqualTo(length);
    }
  }

  @Test
  void finish_withEmptyBuckets_readsThemEmpty() throws IOException {
    Path file = dir.resolve("db");
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(b("a"));
      w.beginBucket(b("b"));
      w.put(b("k"), b("v"));
      w.beginBucket(b("c"));
      w.finish(5);
    }
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.bucketNames()).containsExactly(b("a"), b("b"), b("c"));
      assertThat(r.forEach(b("a"), (k, v) -> true)).isZero();
      assertThat(r.forEach(b("b"), (k, v) -> true)).isOne();
      assertThat(r.forEach(b("c"), (k, v) -> true)).isZero();
      assertThat(r.hasBucket(b("d"))).isFalse();
    }
  }

  @Test
  void put_byteBuffer_writesRemainingBytesAndLeavesPositionAlone() throws IOException {
    Path file = dir.resolve("db");
    ByteBuffer value = ByteBuffer.wrap(b("xxvaluexx"));
    value.position(2).limit(7);
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(b("a"));
      w.put(b("k"), value);
      w.put(b("l"), ByteBuffer.allocate(0));
      w.finish(1);
    }
    assertThat(value.position()).isEqualTo(2);
    assertThat(value.limit()).isEqualTo(7);
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(BoltFiles.read(r).get(b("a")).get(b("k"))).isEqualTo(b("value"));
      assertThat(BoltFiles.read(r).get(b("a")).get(b("l"))).isEmpty();
    }
  }

  @Test
  void beginBucket_outOfOrderOrRepeated_isRefused() throws IOException {
    try (BoltWriter w = new BoltWriter(dir.resolve("db"))) {
      w.beginBucket(b("b"));
      assertThatThrownBy(() -> w.beginBucket(b("a"))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.beginBucket(b("b"))).isInstanceOf(IllegalArgumentException.class);
      // Unsigned order: 0x80 sorts after 'b'.
      w.beginBucket(new byte[] {(byte) 0x80});
    }
  }

  @Test
  void put_outOfOrderRepeatedOrEmptyKey_isRefused() throws IOException {
    try (BoltWriter w = new BoltWriter(dir.resolve("db"))) {
      assertThatThrownBy(() -> w.put(b("a"), b("v"))).isInstanceOf(IllegalStateException.class);
      w.beginBucket(b("x"));
      w.put(b("b"), b("v"));
      assertThatThrownBy(() -> w.put(b("a"), b("v"))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.put(b("b"), b("v"))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.put(new byte[0], b("v"))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.put(new byte[Layout.KEY_BYTES_MAX + 1], b("v")))
          .isInstanceOf(IllegalArgumentException.class);
      w.put(new byte[] {(byte) 0xFF}, b("v"));
    }
  }

  @Test
  void put_keyReusedByCaller_isCopied() throws IOException {
    Path file = dir.resolve("db");
    byte[] key = new byte[] {1};
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(b("a"));
      for (int i = 1; i <= 200; i++) {
        key[0] = (byte) i;
        w.put(key, new byte[100]);
      }
      w.finish(1);
    }
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(BoltFiles.read(r).get(b("a"))).hasSize(200);
    }
  }

  @Test
  void close_withoutFinish_deletesTheFile() throws IOException {
    Path file = dir.resolve("db");
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(b("a"));
      w.put(b("k"), new byte[10_000]);
    }
    assertThat(file).doesNotExist();
  }

  @Test
  void finish_twice_isRefused() throws IOException {
    try (BoltWriter w = new BoltWriter(dir.resolve("db"))) {
      w.finish(1);
      assertThatThrownBy(() -> w.finish(2)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> w.beginBucket(b("a"))).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void constructor_badPageSize_isRefused() {
    assertThatThrownBy(() -> new BoltWriter(dir.resolve("db"), 3000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BoltWriter(dir.resolve("db"), 1 << 20)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void finish_fillsLeafPagesFully() throws IOException {
    // 100 entries of 16 + 4 + 100 bytes: 34 fill a 4 KiB page exactly (16 + 34 * 120 = 4096), so 3 leaves.
    Path file = dir.resolve("db");
    try (BoltWriter w = new BoltWriter(file)) {
      w.beginBucket(b("a"));
      for (int i = 0; i < 100; i++) {
        w.put(ByteBuffer.allocate(4).putInt(i).array(), new byte[100]);
      }
      w.finish(1);
    }
    // Pages: metas 0-1, leaves 2-4, branch 5, root bucket 6, freelist 7.
    assertThat(Files.size(file)).isEqualTo(8L * BoltWriter.PAGE_SIZE);
    assertThat(pageFlags(file, 2)).isEqualTo(Layout.FLAG_LEAF);
    assertThat(pageCount(file, 2)).isEqualTo(34);
    assertThat(pageCount(file, 3)).isEqualTo(34);
    assertThat(pageCount(file, 4)).isEqualTo(32);
    assertThat(pageFlags(file, 5)).isEqualTo(Layout.FLAG_BRANCH);
    assertThat(pageCount(file, 5)).isEqualTo(3);
    assertThat(pageFlags(file, 6)).isEqualTo(Layout.FLAG_LEAF);
    assertThat(pageFlags(file, 7)).isEqualTo(Layout.FLAG_FREELIST);
  }

  @Test
  void finish_everyPageBelowHighWaterIsReachedOnce() throws IOException {
    // tx.Check()'s rule, checked here on the writer's own output: walk every tree and mark its pages.
    Path file = dir.resolve("db");
    BoltFiles.write(file, 1024, BoltFiles.random(42, java.util.List.of(0, 3000, 5, 1), 300, 5000), 9);
    long pages = Files.size(file) / 1024;
    BitSet seen = new BitSet();
    seen.set(0);
    seen.set(1);
    try (FileChannel ch = FileChannel.open(file)) {
      ByteBuffer meta = ByteBuffer.allocate(Layout.META_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(meta, Layout.META_OFFSET);
      markFreelist(ch, meta.getLong(Layout.META_FREELIST_AT), seen);
      mark(ch, meta.getLong(Layout.META_ROOT_AT), seen);
      assertThat(meta.getLong(Layout.META_HIGH_WATER_AT)).isEqualTo(pages);
    }
    assertThat(seen.cardinality()).isEqualTo((int) pages);
    assertThat(seen.nextClearBit(0)).isEqualTo((int) pages);
  }

  private static void markFreelist(FileChannel ch, long id, BitSet seen) throws IOException {
    ByteBuffer h = header(ch, id, 1024);
    assertThat(h.getShort(Layout.PAGE_FLAGS)).isEqualTo((short) Layout.FLAG_FREELIST);
    assertThat(h.getShort(Layout.PAGE_COUNT)).isZero();
    seen.set((int) id);
  }

  private static void mark(FileChannel ch, long id, BitSet seen) throws IOException {
    ByteBuffer h = header(ch, id, 1024);
    int overflow = h.getInt(Layout.PAGE_OVERFLOW);
    for (long i = id; i <= id + overflow; i++) {
      assertThat(seen.get((int) i)).as("page %d reached twice", i).isFalse();
      seen.set((int) i);
    }
    ByteBuffer p = ByteBuffer.allocate((overflow + 1) * 1024).order(ByteOrder.LITTLE_ENDIAN);
    ch.read(p, id * 1024);
    int count = p.getShort(Layout.PAGE_COUNT) & 0xFFFF;
    int flags = p.getShort(Layout.PAGE_FLAGS);
    for (int i = 0; i < count; i++) {
      int e = Layout.PAGE_HEADER_BYTES + i * 16;
      if (flags == Layout.FLAG_BRANCH) {
        mark(ch, p.getLong(e + 8), seen);
      } else if ((p.getInt(e) & Layout.LEAF_FLAG_BUCKET) != 0) {
        long root = p.getLong(e + p.getInt(e + 4) + p.getInt(e + 8));
        if (root != 0) {
          mark(ch, root, seen);
        }
      }
    }
  }

  private static ByteBuffer header(FileChannel ch, long id, int pageSize) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(Layout.PAGE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    ch.read(h, id * pageSize);
    assertThat(h.getLong(Layout.PAGE_ID)).isEqualTo(id);
    return h;
  }

  private static int pageFlags(Path file, long id) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      return header(ch, id, BoltWriter.PAGE_SIZE).getShort(Layout.PAGE_FLAGS);
    }
  }

  private static int pageCount(Path file, long id) throws IOException {
    try (FileChannel ch = FileChannel.open(file)) {
      return header(ch, id, BoltWriter.PAGE_SIZE).getShort(Layout.PAGE_COUNT);
    }
  }
}
