package io.kvorum.bench.raft;

import io.kvorum.raft.Config;
import io.kvorum.raft.ConfState;
import io.kvorum.raft.Entry;
import io.kvorum.raft.HardState;
import io.kvorum.raft.MemoryStorage;
import io.kvorum.raft.Message;
import io.kvorum.raft.RawNode;
import io.kvorum.raft.Ready;
import io.kvorum.raft.Snapshot;
import io.kvorum.raft.SnapshotMetadata;
import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The raft core alone: a 3-member cluster in memory, one thread, no I/O. Each invocation proposes a
 * batch of 100-byte entries on the leader and drives all members until the leader has applied
 * them; the score is entries committed per second. The log is compacted as it goes so memory stays
 * flat.
 *
 * <p>Run: {@code mvn -q -DskipTests package && java -jar bench/target/benchmarks.jar RaftCoreBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RaftCoreBenchmark {
  static final int BATCH = 100;
  static final int ENTRY_BYTES = 100;
  static final long[] IDS = {1, 2, 3};

  private RawNode[] nodes;
  private MemoryStorage[] storages;
  private final ArrayDeque<Message> wire = new ArrayDeque<>();
  private final byte[] payload = new byte[ENTRY_BYTES];
  private long leaderApplied;

  @Setup(Level.Trial)
  public void setUp() {
    nodes = new RawNode[IDS.length];
    storages = new MemoryStorage[IDS.length];
    for (int i = 0; i < IDS.length; i++) {
      MemoryStorage s = new MemoryStorage();
      s.applySnapshot(new Snapshot(new SnapshotMetadata(ConfState.ofVoters(IDS), 1, 1), null));
      s.setHardState(new HardState(1, 0, 1));
      storages[i] = s;
      nodes[i] = new RawNode(Config.defaults(IDS[i], s, new SplittableRandom(i)).withApplied(1));
    }
    nodes[0].campaign();
    drive();
    if (!nodes[0].status().isLeader()) {
      throw new IllegalStateException("member 1 did not become leader");
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long proposeAndCommit() {
    long target = leaderApplied + BATCH;
    for (int i = 0; i < BATCH; i++) {
      nodes[0].propose(payload);
    }
    while (leaderApplied < target) {
      drive();
    }
    return leaderApplied;
  }

  /** Handles every Ready and delivers every message until the cluster is quiet. */
  private void drive() {
    boolean any = true;
    while (any) {
      any = false;
      for (int i = 0; i < nodes.length; i++) {
        RawNode n = nodes[i];
        while (n.hasReady()) {
          any = true;
          Ready rd = n.ready();
          MemoryStorage s = storages[i];
          if (rd.snapshot() != null) {
            s.applySnapshot(rd.snapshot());
          }
          s.append(rd.entries());
          if (rd.hardState() != null) {
            s.setHardState(rd.hardState());
          }
          wire.addAll(rd.messages());
          List<Entry> committed = rd.committedEntries();
          if (!committed.isEmpty()) {
            long last = committed.get(committed.size() - 1).index();
            if (i == 0) {
              leaderApplied = last;
            }
            // Keep the in-memory log short, as a server compacts after snapshots.
            if (last - s.firstIndex() > 10_000) {
              s.compact(last - 1_000);
            }
          }
          n.advance();
        }
      }
      while (!wire.isEmpty()) {
        any = true;
        Message m = wire.pollFirst();
        nodes[(int) m.to() - 1].step(m);
      }
    }
  }
}
