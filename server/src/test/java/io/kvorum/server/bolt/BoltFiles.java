package io.kvorum.server.bolt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/** Test content for bolt files: generated buckets, writing them, reading them back, and editing bytes in place. */
final class BoltFiles {
  private BoltFiles() {}

  /** Random keys drawn per wanted entry before a bucket settles for fewer. */
  static final int ENTRY_DRAWS_PER_KEY = 4;

  /** Buckets by name, entries by key, both in unsigned byte order. */
  static TreeMap<byte[], TreeMap<byte[], byte[]>> content() {
    return new TreeMap<>(Arrays::compareUnsigned);
  }

  static TreeMap<byte[], byte[]> bucket() {
    return new TreeMap<>(Arrays::compareUnsigned);
  }

  /**
   * Random content: one bucket per size in {@code sizes} (fewer entries when keys are too short
   * to be that many); keys of 1 to {@code keyBytesMax} bytes;
   * values mostly under 64 bytes, one in twenty up to {@code valueBytesMax}.
   */
  static TreeMap<byte[], TreeMap<byte[], byte[]>> random(long seed, List<Integer> sizes, int keyBytesMax,
      int valueBytesMax) {
    SplittableRandom r = new SplittableRandom(seed);
    TreeMap<byte[], TreeMap<byte[], byte[]>> c = content();
    for (int size : sizes) {
      TreeMap<byte[], byte[]> b = bucket();
      // Short keys have few distinct values: stop after a bounded number of draws.
      for (long draws = 0; b.size() < size && draws < ENTRY_DRAWS_PER_KEY * size; draws++) {
        byte[] k = bytes(r, 1 + r.nextInt(keyBytesMax));
        int vlen = r.nextInt(20) == 0 ? r.nextInt(valueBytesMax + 1) : r.nextInt(Math.min(64, valueBytesMax) + 1);
        b.put(k, bytes(r, vlen));
      }
      byte[] name;
      do {
        name = bytes(r, 1 + r.nextInt(12));
      } while (c.containsKey(name));
      c.put(name, b);
    }
    return c;
  }

  static byte[] bytes(SplittableRandom r, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) r.nextInt(256);
    }
    return b;
  }

  static long write(Path file, int pageSize, Map<byte[], ? extends Map<byte[], byte[]>> content, long txid)
      throws IOException {
    try (BoltWriter w = new BoltWriter(file, pageSize)) {
      for (Map.Entry<byte[], ? extends Map<byte[], byte[]>> b : content.entrySet()) {
        w.beginBucket(b.getKey());
        for (Map.Entry<byte[], byte[]> e : b.getValue().entrySet()) {
          w.put(e.getKey(), e.getValue());
        }
      }
      return w.finish(txid);
    }
  }

  /** Everything in the file, read with the reader. */
  static TreeMap<byte[], TreeMap<byte[], byte[]>> read(BoltReader r) throws IOException {
    TreeMap<byte[], TreeMap<byte[], byte[]>> c = content();
    for (byte[] name : r.bucketNames()) {
      TreeMap<byte[], byte[]> b = bucket();
      List<byte[]> order = new ArrayList<>();
      r.forEach(name, (k, v) -> {
        byte[] value = new byte[v.remaining()];
        v.get(value);
        b.put(k, value);
        order.add(k);
        return true;
      });
      c.put(name, b);
    }
    return c;
  }

  /** What {@code etcdctl snapshot status} reports, computed the same way: CRC-32C, entry count, last revision. */
  record Status(long hash, long revision, long totalKey, long totalSize) {}

  static Status status(BoltReader r) throws IOException {
    CRC32C crc = new CRC32C();
    long[] revision = {0};
    long total = 0;
    for (byte[] name : r.bucketNames()) {
      crc.update(name);
      boolean keyBucket = Arrays.equals(name, "key".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      total += r.forEach(name, (k, v) -> {
        crc.update(k);
        crc.update(v);
        if (keyBucket) {
          revision[0] = ByteBuffer.wrap(k, 0, 8).getLong();
        }
        return true;
      });
    }
    return new Status(crc.getValue(), revision[0], total, r.sizeBytes());
  }

  /** Overwrites bytes of {@code file} at {@code position}. */
  static void poke(Path file, long position, byte... bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(bytes), position);
    }
  }

  static void pokeLong(Path file, long position, long value) throws IOException {
    poke(file, position, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value).array());
  }

  /** Rewrites the checksum of the meta in page {@code id} to match its (possibly edited) fields. */
  static void resealMeta(Path file, int pageSize, int id) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(Layout.META_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      long at = (long) id * pageSize + Layout.META_OFFSET;
      ch.read(b, at);
      b.putLong(Layout.META_CHECKSUM_AT, Layout.fnv1a64(b, 0, Layout.META_CHECKSUM_AT));
      ch.write(b.clear(), at);
    }
  }
}
