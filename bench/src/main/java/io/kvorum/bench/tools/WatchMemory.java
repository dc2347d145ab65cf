package io.kvorum.bench.tools;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.kvorum.proto.etcdserverpb.WatchCreateRequest;
import io.kvorum.proto.etcdserverpb.WatchGrpc;
import io.kvorum.proto.etcdserverpb.WatchRequest;
import io.kvorum.proto.etcdserverpb.WatchResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Memory per watcher of a running server (Kvorum or etcd): opens {@code --streams} watch streams
 * carrying {@code --watchers} single-key watchers in total over one connection, waits for every
 * {@code created}, and reports the server's resident memory growth (VmRSS of {@code --pid}) and,
 * with {@code --jcmd}, its Java heap in use after a full GC, before and after.
 *
 * <pre>
 * java -cp "bench/target/classes:cli/target/kvorum-cli.jar:cli/target/lib/*" \
 *   io.kvorum.bench.tools.WatchMemory --endpoint 127.0.0.1:2379 --pid PID --watchers 100000 --streams 100 [--jcmd]
 * </pre>
 */
public final class WatchMemory {
  private WatchMemory() {}

  public static void main(String[] args) throws Exception {
    String endpoint = LeaseStorm.strArg(args, "--endpoint", "127.0.0.1:2379");
    long pid = Long.parseLong(LeaseStorm.strArg(args, "--pid", "0"));
    int watchers = LeaseStorm.intArg(args, "--watchers", 100_000);
    int streams = LeaseStorm.intArg(args, "--streams", 100);
    boolean jcmd = List.of(args).contains("--jcmd");
    String[] hp = endpoint.split(":");
    ManagedChannel ch = NettyChannelBuilder.forAddress(hp[0], Integer.parseInt(hp[1])).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    try {
      long rss0 = rssKb(pid);
      long heap0 = jcmd ? heapUsedKb(pid) : -1;
      CountDownLatch created = new CountDownLatch(watchers);
      List<StreamObserver<WatchRequest>> outs = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int s = 0; s < streams; s++) {
        outs.add(WatchGrpc.newStub(ch).watch(new StreamObserver<WatchResponse>() {
          @Override
          public void onNext(WatchResponse r) {
            if (r.getCreated()) {
              created.countDown();
            }
          }

          @Override
          public void onError(Throwable t) {
            System.err.println("stream failed: " + t);
          }

          @Override
          public void onCompleted() {}
        }));
      }
      for (int i = 0; i < watchers; i++) {
        StreamObserver<WatchRequest> out = outs.get(i % streams);
        synchronized (out) {
          out.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
              .setKey(ByteString.copyFromUtf8(String.format(Locale.ROOT, "watch-mem/%08d", i)))).build());
        }
      }
      if (!created.await(300, TimeUnit.SECONDS)) {
        System.out.println("only " + (watchers - created.getCount()) + " watchers created");
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(2_000);
      long rss1 = rssKb(pid);
      long heap1 = jcmd ? heapUsedKb(pid) : -1;
      System.out.printf(Locale.ROOT, "%d watchers on %d streams created in %.1f s%n", watchers, streams, secs);
      System.out.printf(Locale.ROOT, "server RSS: %d -> %d KiB, %.0f B per watcher (streams included)%n", rss0, rss1,
          (rss1 - rss0) * 1024.0 / watchers);
      if (jcmd) {
        System.out.printf(Locale.ROOT, "server heap in use after GC: %d -> %d KiB, %.0f B per watcher%n", heap0, heap1,
            (heap1 - heap0) * 1024.0 / watchers);
      }
      for (StreamObserver<WatchRequest> out : outs) {
        out.onCompleted();
      }
    } finally {
      ch.shutdownNow();
    }
  }

  private static long rssKb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  /** Full GC in the server, then its heap in use (jcmd GC.heap_info "used NNNK"). */
  private static long heapUsedKb(long pid) throws IOException, InterruptedException {
    run("jcmd", Long.toString(pid), "GC.run");
    String out = run("jcmd", Long.toString(pid), "GC.heap_info");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }
}
