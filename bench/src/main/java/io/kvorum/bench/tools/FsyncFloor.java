package io.kvorum.bench.tools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * This disk's durable-append latency: the floor under one write's latency. Appends {@code --size}
 * bytes (512 by default, about one small WAL record) to a fresh file in {@code --dir}
 * and makes it durable with {@code fdatasync} ({@code FileChannel.force(false)}), {@code --count}
 * times (bounded by {@code --limit-seconds}), and prints p50/p90/p99/max in microseconds. Run it on
 * the disk the data dirs are on, in the same run as the load, so the figures compare.
 *
 * <pre>
 * java -cp bench/target/classes io.kvorum.bench.tools.FsyncFloor --dir /tmp --count 2000
 * (no other dependency: it runs on the bare JDK)
 * </pre>
 */
public final class FsyncFloor {
  private FsyncFloor() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(arg(args, "--dir", System.getProperty("java.io.tmpdir")));
    int count = intArg(args, "--count", 2000);
    int size = intArg(args, "--size", 512);
    int limitSeconds = intArg(args, "--limit-seconds", 60);
    Path file = Files.createTempFile(dir, "fsync-floor", ".log");
    long[] micros = new long[count];
    int done = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer rec = ByteBuffer.allocateDirect(size);
      long end = System.nanoTime() + limitSeconds * 1_000_000_000L;
      for (; done < count && System.nanoTime() < end; done++) {
        rec.clear();
        rec.putLong(0, done);
        long t0 = System.nanoTime();
        while (rec.hasRemaining()) {
          ch.write(rec);
        }
        ch.force(false);
        micros[done] = (System.nanoTime() - t0) / 1000;
      }
    } finally {
      Files.deleteIfExists(file);
    }
    long[] s = Arrays.copyOf(micros, done);
    Arrays.sort(s);
    System.out.printf(Locale.ROOT, "fsync-floor: %d appends of %d B + fdatasync on %s: p50 %d us, p90 %d us, "
        + "p99 %d us, max %d us%n", done, size, dir, pct(s, 50), pct(s, 90), pct(s, 99), s.length == 0 ? 0 : s[s.length - 1]);
  }

  private static String arg(String[] args, String name, String dflt) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return dflt;
  }

  private static int intArg(String[] args, String name, int dflt) {
    return Integer.parseInt(arg(args, name, Integer.toString(dflt)));
  }

  private static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }
}
