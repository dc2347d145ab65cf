package io.kvorum.server.bolt;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;

/** What the writer writes, the reader reads back: every bucket, every entry, in order, at every page size. */
class BoltRoundTripTest {
  private Path dir;

  @BeforeTry
  void makeDir() throws IOException {
    dir = Files.createTempDirectory("bolt-roundtrip");
  }

  @AfterTry
  void removeDir() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  @Provide
  Arbitrary<Integer> pageSizes() {
    return Arbitraries.of(1024, 4096, 16384);
  }

  @Property(tries = 60)
  void writeThenRead_returnsEveryEntryInOrder(@ForAll("pageSizes") int pageSize,
      @ForAll @Size(max = 5) List<@IntRange(max = 1500) Integer> bucketSizes,
      @ForAll @IntRange(min = 1, max = 1200) int keyBytesMax, @ForAll @IntRange(max = 40_000) int valueBytesMax,
      @ForAll long seed, @ForAll @IntRange(max = 1000) int txid) throws IOException {
    TreeMap<byte[], TreeMap<byte[], byte[]>> content = BoltFiles.random(seed, bucketSizes, keyBytesMax, valueBytesMax);
    Path file = dir.resolve("db");
    long length = BoltFiles.write(file, pageSize, content, txid);

    assertThat(Files.size(file)).isEqualTo(length);
    try (BoltReader r = BoltReader.open(file)) {
      assertThat(r.pageSize()).isEqualTo(pageSize);
      assertThat(r.txid()).isEqualTo(txid);
      assertThat(r.sizeBytes()).isEqualTo(length);
      assertThat(r.bucketNames()).containsExactlyElementsOf(content.keySet());
      TreeMap<byte[], TreeMap<byte[], byte[]>> back = BoltFiles.read(r);
      assertThat(back.keySet()).containsExactlyElementsOf(content.keySet());
      for (byte[] name : content.keySet()) {
        TreeMap<byte[], byte[]> want = content.get(name);
        TreeMap<byte[], byte[]> got = back.get(name);
        assertThat(got.keySet()).containsExactlyElementsOf(want.keySet());
        for (byte[] k : want.keySet()) {
          assertThat(got.get(k)).isEqualTo(want.get(k));
        }
      }
    }
  }

  @Property(tries = 20)
  void writeThenRead_withManyLargeKeys_buildsThreeOrMoreBranchLevels(@ForAll long seed,
      @ForAll @IntRange(min = 600, max = 1000) int keyBytes) throws IOException {
    // Keys of ~1 KiB put four on a 4 KiB page, so 1,500 keys need leaves under three levels of branches.
    TreeMap<byte[], TreeMap<byte[], byte[]>> content = BoltFiles.random(seed, List.of(1500), keyBytes, 8);
    Path file = dir.resolve("db");
    BoltFiles.write(file, BoltWriter.PAGE_SIZE, content, 1);

    try (BoltReader r = BoltReader.open(file)) {
      byte[] name = content.firstKey();
      assertThat(r.forEach(name, (k, v) -> true)).isEqualTo(1500);
      assertThat(r.lastHeight).as("levels of pages, leaves included").isGreaterThanOrEqualTo(4);
      assertThat(BoltFiles.read(r).get(name).keySet()).containsExactlyElementsOf(content.get(name).keySet());
    }
  }

  @Property(tries = 10)
  void writeThenRead_withValuesOfManyPages_returnsThemWhole(@ForAll @IntRange(min = 4_000, max = 3_000_000) int valueBytes,
      @ForAll long seed) throws IOException {
    TreeMap<byte[], byte[]> b = BoltFiles.bucket();
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    b.put(new byte[] {1}, BoltFiles.bytes(r, 10));
    b.put(new byte[] {2}, BoltFiles.bytes(r, valueBytes));
    b.put(new byte[] {3}, new byte[0]);
    b.put(new byte[] {4}, BoltFiles.bytes(r, valueBytes / 3));
    TreeMap<byte[], TreeMap<byte[], byte[]>> content = BoltFiles.content();
    content.put("big".getBytes(java.nio.charset.StandardCharsets.US_ASCII), b);
    Path file = dir.resolve("db");
    BoltFiles.write(file, BoltWriter.PAGE_SIZE, content, 3);

    try (BoltReader reader = BoltReader.open(file)) {
      TreeMap<byte[], byte[]> got = BoltFiles.read(reader).firstEntry().getValue();
      assertThat(got.keySet()).containsExactlyElementsOf(b.keySet());
      for (byte[] k : b.keySet()) {
        assertThat(ByteBuffer.wrap(got.get(k))).isEqualTo(ByteBuffer.wrap(b.get(k)));
      }
    }
  }
}
