package io.kvorum.bench.path;

import com.google.protobuf.ByteString;
import io.kvorum.proto.etcdserverpb.ResponseHeader;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import io.kvorum.server.mvcc.KvStore;
import io.kvorum.server.storage.Backend;
import io.kvorum.server.storage.ConsistentIndex;
import io.kvorum.server.storage.SnapshotLoader;
import io.kvorum.server.watch.WatchHub;
import io.kvorum.server.watch.WatchStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
 * Watch fan-out: one put to a key that {@code watchers} watchers (spread over {@code streams}
 * streams) watch, until every stream holds its response — the hub's matching, response building
 * and hand-off to the streams, without gRPC. The score is puts delivered per second (multiply by
 * {@code watchers} for events per second).
 *
 * <p>Run (the server benchmarks need the cli's classpath): {@code java -cp "bench/target/benchmarks.jar:cli/target/kvorum-cli.jar:cli/target/lib/*" org.openjdk.jmh.Main WatchFanoutBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WatchFanoutBenchmark {
  @Param({"100"})
  public int watchers;

  @Param({"10"})
  public int streams;

  private Path dir;
  private Backend backend;
  private KvStore store;
  private WatchHub hub;
  private final List<WatchStream> open = new ArrayList<>();
  private final AtomicInteger delivered = new AtomicInteger();
  private final ByteString key = ByteString.copyFromUtf8("/registry/leases/kube-node-lease/node-1");
  private final ByteString value = ByteString.copyFrom(new byte[256]);
  private long index;
  private volatile Thread waiter;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("kvorum-watch-bench");
    backend = Backend.open(dir);
    store = KvStore.open(backend);
    hub = new WatchHub(store, rev -> ResponseHeader.newBuilder().setRevision(rev).build(), 2 << 20, System::nanoTime,
        TimeUnit.MINUTES.toNanos(10)).start();
    for (int s = 0; s < streams; s++) {
      WatchStream ws = hub.openStream();
      ws.onSendable(() -> {
        for (WatchResponse r : ws.poll()) {
          delivered.addAndGet(r.getEventsCount());
        }
        Thread w = waiter;
        if (w != null) {
          LockSupport.unpark(w);
        }
      });
      for (int i = s; i < watchers; i += streams) {
        ws.create(WatchCreateRequest.newBuilder().setKey(key).build());
      }
      open.add(ws);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    open.forEach(WatchStream::close);
    hub.close();
    store.close();
    backend.close();
    SnapshotLoader.deleteTree(dir);
  }

  @Benchmark
  public int putAndDeliver() {
    int target = delivered.get() + watchers;
    waiter = Thread.currentThread();
    store.put(key, value, 0, new ConsistentIndex(++index, 1));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (delivered.get() < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the watchers did not get the put within 10 s");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    return target;
  }
}
