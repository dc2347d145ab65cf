package io.kvorum.bench.tools;

import io.kvorum.server.bolt.BoltReader;
import io.kvorum.server.bolt.BoltWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How long {@link BoltWriter} takes to write, and {@link BoltReader} to read back, an etcd-shaped
 * bbolt file: {@code --keys} 17-byte revision keys in bucket {@code key} with {@code --value-bytes}
 * values (4 M of 256 bytes by default, about 1.2 GB), in {@code --dir}. The write includes its
 * fsyncs; the read follows at once, so it is mostly from the page cache. The file is deleted.
 *
 * <pre>
 * java -Xmx256m -cp bench/target/classes:server/target/classes io.kvorum.bench.tools.BoltFileTime --dir /tmp
 * </pre>
 */
public final class BoltFileTime {
  private BoltFileTime() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(arg(args, "--dir", System.getProperty("java.io.tmpdir")));
    int keys = Integer.parseInt(arg(args, "--keys", "4000000"));
    int valueBytes = Integer.parseInt(arg(args, "--value-bytes", "256"));
    Path file = Files.createTempFile(dir, "bolt-file-time", ".db");
    try {
      ByteBuffer value = ByteBuffer.allocateDirect(valueBytes);
      for (int i = 0; i < valueBytes; i++) {
        value.put(i, (byte) i);
      }
      byte[] key = new byte[17];
      ByteBuffer k = ByteBuffer.wrap(key);
      long t0 = System.nanoTime();
      long size;
      try (BoltWriter w = new BoltWriter(file)) {
        w.beginBucket("key".getBytes(StandardCharsets.US_ASCII));
        for (int i = 1; i <= keys; i++) {
          k.clear();
          k.putLong(i).put((byte) '_').putLong(0);
          w.put(key, value);
        }
        w.beginBucket("meta".getBytes(StandardCharsets.US_ASCII));
        w.put("consistent_index".getBytes(StandardCharsets.US_ASCII), new byte[8]);
        size = w.finish(keys);
      }
      long t1 = System.nanoTime();
      long[] checksum = {0};
      long read;
      try (BoltReader r = BoltReader.open(file)) {
        read = r.forEach("key".getBytes(StandardCharsets.US_ASCII), (kk, v) -> {
          checksum[0] += kk[16] + v.get(v.limit() - 1);
          return true;
        });
      }
      long t2 = System.nanoTime();
      System.out.printf(Locale.ROOT, "bolt-file-time: %d keys, %.1f MB: write %.2f s (%.0f MB/s), read %.2f s "
          + "(%.0f MB/s), %d entries read (checksum %d)%n", keys, size / 1e6, (t1 - t0) / 1e9,
          size / 1e3 / ((t1 - t0) / 1e6), (t2 - t1) / 1e9, size / 1e3 / ((t2 - t1) / 1e6), read, checksum[0]);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static String arg(String[] args, String name, String dflt) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return dflt;
  }
}
