package io.kvorum.server.bolt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BoltReaderTest {
  private static final int PAGE = BoltWriter.PAGE_SIZE;

  @TempDir
  Path dir;
  private Path fuzzDir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A file of two buckets, a few pages each, with txid 7. */
  private Path sample(Path at, int pageSize) throws IOException {
    Path file = at.resolve("db-" + pageSize);
    BoltFiles.write(file, pageSize, BoltFiles.random(7, List.of(300, 40), 40, 6000), 7);
    return file;
  }

  @Test
  void open_truncatedFile_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - PAGE);
    }
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class).hasMessageContaining("truncated");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(100);
    }
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class)
        .hasMessageContaining("no valid meta");
  }

  @Test
  void open_garbage_isRefused() throws IOException {
    Path file = dir.resolve("garbage");
    Files.write(file, BoltFiles.bytes(new SplittableRandom(1), 64 * 1024));
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class)
        .hasMessageContaining("not a bbolt file");
  }

  @Test
  void open_zeroedMetas_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    BoltFiles.poke(file, 0, new byte[2 * PAGE]);
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class)
        .hasMessageContaining("invalid magic 00000000");
  }

  @Test
  void open_metaWithBadChecksum_fallsBackToTheOther() throws IOException {
    Path file = sample(dir, PAGE);
    // Meta 1 becomes the newer one (txid 8); then its checksum breaks and meta 0 (txid 7) must win.
    BoltFiles.pokeLong(file, PAGE + Layout.META_OFFSET + Layout.META_TXID_AT, 8);
    BoltFiles.resealMeta(file, PAGE, 1);
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.txid()).isEqualTo(8);
    }
    BoltFiles.poke(file, PAGE + Layout.META_OFFSET + Layout.META_CHECKSUM_AT, (byte) 0x5A);
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.txid()).isEqualTo(7);
      assertThat(BoltFiles.read(r)).hasSize(2);
    }
  }

  @Test
  void open_damagedMetaZero_findsPageSizeFromMetaOne() throws IOException {
    Path file = sample(dir, 16384);
    BoltFiles.poke(file, Layout.META_OFFSET, new byte[Layout.META_BYTES]);
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.pageSize()).isEqualTo(16384);
      assertThat(r.txid()).isEqualTo(7);
      assertThat(BoltFiles.read(r).firstEntry().getValue()).hasSize(300);
    }
  }

  @Test
  void open_wrongVersion_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    for (int id = 0; id < 2; id++) {
      BoltFiles.poke(file, (long) id * PAGE + Layout.META_OFFSET + Layout.META_VERSION_AT, (byte) 3);
      BoltFiles.resealMeta(file, PAGE, id);
    }
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class)
        .hasMessageContaining("version 3");
  }

  @Test
  void open_rootAboveHighWater_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    for (int id = 0; id < 2; id++) {
      BoltFiles.pokeLong(file, (long) id * PAGE + Layout.META_OFFSET + Layout.META_ROOT_AT, 1 << 20);
      BoltFiles.resealMeta(file, PAGE, id);
    }
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class)
        .hasMessageContaining("root page");
  }

  @Test
  void open_unsyncedFreelist_isAccepted() throws IOException {
    Path file = sample(dir, PAGE);
    for (int id = 0; id < 2; id++) {
      BoltFiles.pokeLong(file, (long) id * PAGE + Layout.META_OFFSET + Layout.META_FREELIST_AT, Layout.NO_FREELIST);
      BoltFiles.resealMeta(file, PAGE, id);
    }
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(BoltFiles.read(r)).hasSize(2);
    }
  }

  @Test
  void open_fileLongerThanHighWater_isAccepted() throws IOException {
    // A live etcd database is grown ahead of its high-water mark; a saved snapshot ends in its hash.
    Path file = sample(dir, PAGE);
    long length = Files.size(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[3 * PAGE + 32]), length);
    }
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.sizeBytes()).isEqualTo(length);
      assertThat(BoltFiles.read(r)).hasSize(2);
    }
  }

  @Test
  void open_freelistPageOfWrongType_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    // The writer's freelist is the last page.
    BoltFiles.poke(file, Files.size(file) - PAGE + Layout.PAGE_FLAGS, (byte) Layout.FLAG_LEAF);
    assertThatThrownBy(() -> BoltReader.open(file)).isInstanceOf(BoltFormatException.class)
        .hasMessageContaining("freelist page");
  }

  @Test
  void forEach_pageOfWrongType_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    BoltFiles.poke(file, 2L * PAGE + Layout.PAGE_FLAGS, (byte) Layout.FLAG_FREELIST);
    assertThatThrownBy(() -> {
      try (BoltReader r = BoltReader.open(file)) {
        BoltFiles.read(r);
      }
    }).isInstanceOf(BoltFormatException.class).hasMessageContaining("type freelist");
  }

  @Test
  void forEach_nestedBucket_isRefused() throws IOException {
    Path file = sample(dir, PAGE);
    // Page 2 is the first bucket's first leaf; mark its first element a bucket.
    BoltFiles.poke(file, 2L * PAGE + Layout.PAGE_HEADER_BYTES, (byte) Layout.LEAF_FLAG_BUCKET);
    assertThatThrownBy(() -> {
      try (BoltReader r = BoltReader.open(file)) {
        BoltFiles.read(r);
      }
    }).isInstanceOf(BoltFormatException.class).hasMessageContaining("nested bucket");
  }

  @Test
  void forEach_branchPointingAtItself_isRefused() throws IOException {
    Path file = dir.resolve("db");
    TreeMap<byte[], TreeMap<byte[], byte[]>> content = BoltFiles.random(3, List.of(400), 8, 100);
    BoltFiles.write(file, PAGE, content, 1);
    long branch;
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.forEach(content.firstKey(), (k, v) -> true)).isEqualTo(400);
      assertThat(r.lastHeight).isEqualTo(2);
      // The root bucket page is second to last (before the freelist); its only bucket's root is the branch.
      branch = Files.size(file) / PAGE - 3;
    }
    // Point the branch's second child at the branch itself.
    BoltFiles.pokeLong(file, branch * PAGE + Layout.PAGE_HEADER_BYTES + Layout.BRANCH_ELEMENT_BYTES + 8, branch);
    assertThatThrownBy(() -> {
      try (BoltReader r = BoltReader.open(file)) {
        r.forEach(content.firstKey(), (k, v) -> true);
      }
    }).isInstanceOf(BoltFormatException.class).hasMessageContaining("more than once");
  }

  @Test
  void forEach_visitorReturnsFalse_stops() throws IOException {
    Path file = sample(dir, PAGE);
    try (BoltReader r = BoltReader.open(file)) {
      int[] seen = {0};
      long n = r.forEach(r.bucketNames().get(0), (k, v) -> ++seen[0] < 10);
      assertThat(n).isEqualTo(10);
    }
  }

  @Test
  void forEach_missingBucket_isRefused() throws IOException {
    try (BoltReader r = BoltReader.open(sample(dir, PAGE))) {
      assertThatThrownBy(() -> r.forEach(b("nope"), (k, v) -> true)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void forEach_fromWithinAVisit_isRefused() throws IOException {
    try (BoltReader r = BoltReader.open(sample(dir, PAGE))) {
      byte[] name = r.bucketNames().get(0);
      assertThatThrownBy(() -> r.forEach(name, (k, v) -> r.forEach(name, (k2, v2) -> true) > 0))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @BeforeTry
  void makeFuzzDir() throws IOException {
    fuzzDir = Files.createTempDirectory("bolt-fuzz");
  }

  @AfterTry
  void removeFuzzDir() throws IOException {
    try (var files = Files.list(fuzzDir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.delete(p);
      }
    }
    Files.delete(fuzzDir);
  }

  @Property(tries = 300)
  void open_randomlyDamagedFile_readsOrRefusesWithFormatException(@ForAll long seed,
      @ForAll @IntRange(min = 1, max = 40) int damages) throws IOException {
    Path file = sample(fuzzDir, 1024);
    long size = Files.size(file);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < damages; i++) {
      // Aim mostly at headers and elements (page starts), where damage steers the walk.
      long page = r.nextLong(size / 1024);
      long at = page * 1024 + (r.nextBoolean() ? r.nextInt(64) : r.nextInt(1024));
      BoltFiles.poke(file, at, (byte) r.nextInt(256));
    }
    try (BoltReader reader = BoltReader.open(file)) {
      for (byte[] name : reader.bucketNames()) {
        reader.forEach(name, (k, v) -> {
          v.get(new byte[v.remaining()]);
          return true;
        });
      }
    } catch (BoltFormatException refused) {
      assertThat(refused).hasMessageContaining(file.toString());
    }
  }

  @Test
  void forEach_valueBuffer_isReadOnly() throws IOException {
    try (BoltReader r = BoltReader.open(sample(dir, PAGE))) {
      r.forEach(r.bucketNames().get(0), (k, v) -> {
        assertThat(v.isReadOnly()).isTrue();
        assertThatThrownBy(() -> v.put(0, (byte) 1)).isInstanceOf(java.nio.ReadOnlyBufferException.class);
        return false;
      });
    }
  }
}
