package io.kvorum.server.mvcc;

import com.google.protobuf.ByteString;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The in-memory key index alone (in the mvcc package, as the index is package-private): a point
 * lookup, a put of a new revision of an existing key, and a 100-key range, over {@code keys} keys.
 *
 * <p>Run: see {@code docs/performance.md} (the server benchmarks need the cli's classpath)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class KeyIndexBenchmark {
  @Param({"100000"})
  public int keys;

  private final Index index = new Index();
  private ByteString[] names;
  private long rev;
  private int next;

  @Setup
  public void fill() {
    names = new ByteString[keys];
    for (int i = 0; i < keys; i++) {
      names[i] = ByteString.copyFromUtf8(String.format("/registry/pods/ns-%04d/pod-%08d", i % 1000, i));
      index.put(names[i], ++rev, 0, 120);
    }
  }

  private ByteString nextKey() {
    next = (next + 7919) % keys;
    return names[next];
  }

  @Benchmark
  public Object get() {
    return index.get(nextKey(), rev);
  }

  @Benchmark
  public long put() {
    index.put(nextKey(), ++rev, 0, 120);
    return rev;
  }

  @Benchmark
  public int range100() {
    ByteString from = nextKey();
    int[] n = {0};
    index.range(KeyRange.fromRequest(from, ByteString.copyFrom(new byte[] {0})), rev, (k, f) -> ++n[0] < 100);
    return n[0];
  }
}
