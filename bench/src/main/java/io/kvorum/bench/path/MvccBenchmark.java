package io.kvorum.bench.path;

import com.google.protobuf.ByteString;
import io.kvorum.server.mvcc.KeyRange;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.mvcc.RangeOptions;
import io.kvorum.server.mvcc.ReadTxn;
import io.kvorum.server.mvcc.WriteTxn;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.SnapshotLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The MVCC store on RocksDB (a temp dir), without raft: one put per write transaction (what one
 * applied entry costs the store), a point read, and the range of one namespace's keys from a read
 * snapshot, over {@code keys} keys of 256-byte values in 1,000 namespaces.
 *
 * <p>Run (the server benchmarks need the cli's classpath): {@code java -cp "bench/target/benchmarks.jar:cli/target/kvorum-cli.jar:cli/target/lib/*" org.openjdk.jmh.Main MvccBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MvccBenchmark {
  @Param({"100000"})
  public int keys;

  private Path dir;
  private Backend backend;
  private KvStore store;
  private ByteString[] names;
  private final ByteString value = ByteString.copyFrom(new byte[256]);
  private long index;
  private int next;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("kvorum-mvcc-bench");
    backend = Backend.open(dir);
    store = KvStore.open(backend);
    names = new ByteString[keys];
    for (int i = 0; i < keys; i++) {
      names[i] = ByteString.copyFromUtf8(String.format("/registry/pods/ns-%04d/pod-%08d", i % 1000, i));
    }
    for (int i = 0; i < keys; i += 1000) {
      try (WriteTxn w = store.write(new ConsistentIndex(++index, 1))) {
        for (int j = i; j < Math.min(keys, i + 1000); j++) {
          w.put(names[j], value, 0);
        }
        w.end();
      }
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
    backend.close();
    SnapshotLoader.deleteTree(dir);
  }

  private ByteString nextKey() {
    next = (next + 7919) % keys;
    return names[next];
  }

  @Benchmark
  public long put() {
    try (WriteTxn w = store.write(new ConsistentIndex(++index, 1))) {
      w.put(nextKey(), value, 0);
      return w.end();
    }
  }

  @Benchmark
  public int get() {
    try (ReadTxn r = store.read()) {
      return r.range(KeyRange.single(nextKey()), RangeOptions.DEFAULT).kvs().size();
    }
  }

  /** One namespace's keys (keys / 1000 of them: 100 by default), as a list of a Kubernetes namespace reads them. */
  @Benchmark
  public int rangeNamespace() {
    next = (next + 7919) % keys;
    ByteString prefix = ByteString.copyFromUtf8(String.format("/registry/pods/ns-%04d/", next % 1000));
    byte[] end = prefix.toByteArray();
    end[end.length - 1]++;
    try (ReadTxn r = store.read()) {
      return r.range(KeyRange.fromRequest(prefix, ByteString.copyFrom(end)), RangeOptions.DEFAULT).kvs().size();
    }
  }
}
