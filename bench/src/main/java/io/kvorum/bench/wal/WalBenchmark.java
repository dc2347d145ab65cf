package io.kvorum.bench.wal;

import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.EntryType;
import io.kvorum.raft.HardState;
import io.kvorum.server.storage.SnapshotLoader;
import io.kvorum.server.wal.RaftStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * The WAL's group commit: one durable save (append + fsync) of {@code batch} entries of 256 bytes,
 * as the raft loop makes one per round. The score is saves per second; entries per second is that
 * times {@code batch}, which shows what batching buys over one fsync per entry. Compare batch 1
 * with {@code FsyncFloor} (this disk's bare append + fdatasync) for the WAL's own overhead.
 *
 * <p>Run (the server benchmarks need the cli's classpath): {@code java -cp "bench/target/benchmarks.jar:cli/target/kvorum-cli.jar:cli/target/lib/*" org.openjdk.jmh.Main WalBenchmark} (writes under java.io.tmpdir;
 * {@code -jvmArgs -Djava.io.tmpdir=DIR} puts it on another disk)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WalBenchmark {
  @Param({"1", "16", "128"})
  public int batch;

  private Path dir;
  private RaftStorage storage;
  private long index = 1;
  private final byte[] data = new byte[256];

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("kvorum-wal-bench");
    storage = RaftStorage.create(dir, new byte[16]);
    storage.bootstrap(ConfState.ofVoters(new long[] {1}), new byte[0]);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    storage.close();
    SnapshotLoader.deleteTree(dir);
  }

  @Benchmark
  public long saveDurably() throws IOException {
    List<Entry> entries = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      entries.add(new Entry(1, ++index, EntryType.NORMAL, data));
    }
    storage.save(new HardState(1, 1, index), entries, true);
    return index;
  }
}
