package io.kvorum.bench.tools;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.kvorum.proto.etcdserverpb.CompactionRequest;
import io.kvorum.proto.etcdserverpb.DefragmentRequest;
import io.kvorum.proto.etcdserverpb.KVGrpc;
import io.kvorum.proto.etcdserverpb.MaintenanceGrpc;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.proto.etcdserverpb.PutResponse;
import io.kvorum.proto.etcdserverpb.StatusRequest;
import io.kvorum.proto.etcdserverpb.StatusResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How long puts stall while a running server (Kvorum or etcd) defragments: fills {@code --keys}
 * keys, writes each once more and compacts (physically) so that half the records are garbage,
 * then runs {@code --writers} sequential writers of random keys, calls {@code Defragment} after a
 * baseline, and reports the defragmentation's duration and the put latencies before, during and
 * after it (the worst one during it is the stall). Bounded: {@link #SAMPLES_MAX} latencies.
 *
 * <pre>
 * java -cp "bench/target/classes:cli/target/kvorum-cli.jar:cli/target/lib/*" \
 *   io.kvorum.bench.tools.DefragStall --endpoint 127.0.0.1:2379 --keys 100000 --value-bytes 256 --writers 4
 * </pre>
 */
public final class DefragStall {
  /** Latencies recorded at most; a run keeps writing but stops recording past it. */
  static final int SAMPLES_MAX = 2_000_000;
  /** Puts in flight while filling. */
  static final int FILL_WINDOW = 128;
  private static final long BASELINE_NANOS = TimeUnit.SECONDS.toNanos(5);

  private DefragStall() {}

  public static void main(String[] args) throws Exception {
    String endpoint = LeaseStorm.strArg(args, "--endpoint", "127.0.0.1:2379");
    int keys = LeaseStorm.intArg(args, "--keys", 100_000);
    int valueBytes = LeaseStorm.intArg(args, "--value-bytes", 256);
    int writers = LeaseStorm.intArg(args, "--writers", 4);
    String[] hp = endpoint.split(":");
    ManagedChannel ch = NettyChannelBuilder.forAddress(hp[0], Integer.parseInt(hp[1])).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    try {
      ByteString value = ByteString.copyFrom(new byte[valueBytes]);
      long t0 = System.nanoTime();
      fill(ch, keys, value);
      fill(ch, keys, value);
      StatusResponse st = MaintenanceGrpc.newBlockingStub(ch).status(StatusRequest.getDefaultInstance());
      long rev = st.getHeader().getRevision();
      KVGrpc.newBlockingStub(ch).compact(CompactionRequest.newBuilder().setRevision(rev).setPhysical(true).build());
      System.out.printf(Locale.ROOT, "filled %d keys twice and compacted at %d in %.1f s; dbSize %d bytes%n", keys, rev,
          (System.nanoTime() - t0) / 1e9, st.getDbSize());

      long[] starts = new long[SAMPLES_MAX];
      long[] latencies = new long[SAMPLES_MAX];
      AtomicInteger recorded = new AtomicInteger();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      long[] window = new long[2];
      List<Thread> threads = new ArrayList<>();
      long[] endAt = {Long.MAX_VALUE};
      for (int w = 0; w < writers; w++) {
        int seed = w;
        Thread t = new Thread(() -> {
          KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(ch);
          java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
          while (System.nanoTime() < endAt[0] && failure.get() == null) {
            long s = System.nanoTime();
            try {
              kv.withDeadlineAfter(60, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                  .setKey(key(rnd.nextInt(keys))).setValue(value).build());
            } catch (RuntimeException e) {
              failure.compareAndSet(null, e);
              return;
            }
            int i = recorded.getAndIncrement();
            if (i < SAMPLES_MAX) {
              starts[i] = s;
              latencies[i] = System.nanoTime() - s;
            }
          }
        }, "writer-" + w);
        threads.add(t);
        t.start();
      }
      Thread.sleep(TimeUnit.NANOSECONDS.toMillis(BASELINE_NANOS));
      window[0] = System.nanoTime();
      MaintenanceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.MINUTES)
          .defragment(DefragmentRequest.getDefaultInstance());
      window[1] = System.nanoTime();
      Thread.sleep(TimeUnit.NANOSECONDS.toMillis(BASELINE_NANOS));
      endAt[0] = System.nanoTime();
      for (Thread t : threads) {
        t.join();
      }
      if (failure.get() != null) {
        throw new IllegalStateException("a put failed", failure.get());
      }
      int n = Math.min(recorded.get(), SAMPLES_MAX);
      System.out.printf(Locale.ROOT, "defragment took %.0f ms; %d writers of %d-byte values%n",
          (window[1] - window[0]) / 1e6, writers, valueBytes);
      report("before", starts, latencies, n, Long.MIN_VALUE, window[0]);
      report("during", starts, latencies, n, window[0], window[1]);
      report("after", starts, latencies, n, window[1], Long.MAX_VALUE);
      StatusResponse after = MaintenanceGrpc.newBlockingStub(ch).status(StatusRequest.getDefaultInstance());
      System.out.printf(Locale.ROOT, "dbSize after %d bytes%n", after.getDbSize());
    } finally {
      ch.shutdownNow();
    }
  }

  private static ByteString key(int i) {
    return ByteString.copyFromUtf8(String.format(Locale.ROOT, "defrag/%08d", i));
  }

  /** Puts every key once, {@link #FILL_WINDOW} in flight. */
  private static void fill(ManagedChannel ch, int keys, ByteString value) throws InterruptedException {
    Semaphore window = new Semaphore(FILL_WINDOW);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    KVGrpc.KVStub kv = KVGrpc.newStub(ch);
    for (int i = 0; i < keys && failure.get() == null; i++) {
      window.acquire();
      kv.put(PutRequest.newBuilder().setKey(key(i)).setValue(value).build(),
          new io.grpc.stub.StreamObserver<PutResponse>() {
            @Override
            public void onNext(PutResponse r) {}

            @Override
            public void onError(Throwable t) {
              failure.compareAndSet(null, t);
              window.release();
            }

            @Override
            public void onCompleted() {
              window.release();
            }
          });
    }
    window.acquire(FILL_WINDOW);
    if (failure.get() != null) {
      throw new IllegalStateException("a put failed while filling", failure.get());
    }
  }

  /** Latencies of the puts that started in [{@code from}, {@code to}), and the worst one that overlapped it. */
  private static void report(String what, long[] starts, long[] latencies, int n, long from, long to) {
    long[] in = new long[n];
    int k = 0;
    long worstOverlapping = 0;
    for (int i = 0; i < n; i++) {
      if (starts[i] >= from && starts[i] < to) {
        in[k++] = latencies[i];
      }
      if (starts[i] < to && starts[i] + latencies[i] > from) {
        worstOverlapping = Math.max(worstOverlapping, latencies[i]);
      }
    }
    long[] sorted = Arrays.copyOf(in, k);
    Arrays.sort(sorted);
    if (k == 0) {
      System.out.printf(Locale.ROOT, "%-6s no put started; worst overlapping %.1f ms%n", what, worstOverlapping / 1e6);
      return;
    }
    System.out.printf(Locale.ROOT, "%-6s %7d puts  p50 %7.2f ms  p99 %8.2f ms  max %8.1f ms  worst overlapping %8.1f ms%n",
        what, k, sorted[k / 2] / 1e6, sorted[(int) Math.min(k - 1, (long) k * 99 / 100)] / 1e6, sorted[k - 1] / 1e6,
        worstOverlapping / 1e6);
  }
}
