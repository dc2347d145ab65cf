package io.kvorum.bench.tools;

import com.google.protobuf.ByteString;
import io.kvorum.server.etcdserver.RequestContext;
import io.kvorum.proto.etcdserverpb.LeaseGrantRequest;
import io.kvorum.proto.etcdserverpb.PutRequest;
import io.kvorum.server.config.ServerConfig;
import io.kvorum.server.etcdserver.EtcdServer;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many leases expiring at once (etcd issues #9360, #12105): one embedded member on a fake lease
 * clock grants {@code --leases} leases (each with one attached key), then the clock jumps past
 * their TTL while {@code --put-clients} closed-loop writers keep putting. Reports put latency
 * before and during the expiry and how long until every lease is revoked.
 *
 * <pre>
 * java -cp "bench/target/classes:cli/target/kvorum-cli.jar:cli/target/lib/*" \
 *   io.kvorum.bench.tools.LeaseStorm --leases 1000000 --put-clients 4
 * </pre>
 */
public final class LeaseStorm {
  private LeaseStorm() {}

  public static void main(String[] args) throws Exception {
    int leases = intArg(args, "--leases", 1_000_000);
    int putClients = intArg(args, "--put-clients", 4);
    int inflight = intArg(args, "--inflight", 2_000);
    int baselineSeconds = intArg(args, "--baseline-seconds", 10);
    int limitSeconds = intArg(args, "--limit-seconds", 600);
    Path dir = Files.createTempDirectory("kvorum-lease-storm");
    // The member's clock follows real time in heartbeat steps, and jumps when the test says.
    io.kvorum.server.clock.FakeClock clock = new io.kvorum.server.clock.FakeClock();
    Thread pump = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        clock.advance(java.time.Duration.ofMillis(100));
      }
    }, "clock-pump");
    pump.setDaemon(true);
    pump.start();
    int peerPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      peerPort = s.getLocalPort();
    }
    ServerConfig.Builder b = ServerConfig.builder();
    b.name = "storm";
    b.dataDir = dir;
    URI peer = URI.create("http://127.0.0.1:" + peerPort);
    b.listenPeerUrls = List.of(peer);
    b.initialAdvertisePeerUrls = List.of(peer);
    b.clock = clock;
    try (EtcdServer server = EtcdServer.start(b.build())) {
      await(() -> server.raftStatus().isLeader() && server.lessor().isPrimary(), 30);
      long t0 = System.nanoTime();
      Semaphore window = new Semaphore(inflight);
      AtomicLong failed = new AtomicLong();
      for (int i = 0; i < leases; i++) {
        window.acquire();
        String key = String.format(Locale.ROOT, "storm/%08d", i);
        server.leases().leaseGrant(RequestContext.of("test"), LeaseGrantRequest.newBuilder().setTTL(60).build())
            .thenCompose(g -> server.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFromUtf8("v")).setLease(g.getID()).build()))
            .whenComplete((v, err) -> {
              if (err != null) {
                failed.incrementAndGet();
              }
              window.release();
            });
      }
      window.acquire(inflight);
      window.release(inflight);
      System.out.printf(Locale.ROOT, "granted %d leases with a key each in %.1f s (%d failed)%n", leases,
          (System.nanoTime() - t0) / 1e9, failed.get());

      List<long[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> writers = new ArrayList<>();
      for (int c = 0; c < putClients; c++) {
        int id = c;
        Thread t = new Thread(() -> {
          long n = 0;
          while (!stop.get()) {
            long start = System.nanoTime();
            try {
              server.kv().put(RequestContext.of("test"), PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("load/" + id + "/" + (n++ % 100)))
                  .setValue(ByteString.copyFromUtf8("x")).build()).get(30, TimeUnit.SECONDS);
              samples.add(new long[] {start, System.nanoTime() - start});
            } catch (Exception e) {
              samples.add(new long[] {start, -1});
            }
          }
        }, "storm-put-" + c);
        t.start();
        writers.add(t);
      }
      long baseStart = System.nanoTime();
      Thread.sleep(baselineSeconds * 1000L);
      long expiryStart = System.nanoTime();
      // Every lease's deadline passes at once.
      clock.jump(java.time.Duration.ofSeconds(61));
      server.leaseDutiesNow().get();
      long deadline = expiryStart + TimeUnit.SECONDS.toNanos(limitSeconds);
      while (server.lessor().size() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      long expiryEnd = System.nanoTime();
      int left = server.lessor().size();
      stop.set(true);
      for (Thread t : writers) {
        t.join(60_000);
      }
      System.out.printf(Locale.ROOT, "all %d leases revoked in %.2f s (%d left)%n", leases,
          (expiryEnd - expiryStart) / 1e9, left);
      report("puts before expiry", samples, baseStart, expiryStart);
      report("puts during expiry", samples, expiryStart, expiryEnd);
    } finally {
      deleteTree(dir);
    }
  }

  static void report(String what, List<long[]> samples, long from, long to) {
    List<Long> lat = new ArrayList<>();
    long errors = 0;
    synchronized (samples) {
      for (long[] s : samples) {
        if (s[0] >= from && s[0] < to) {
          if (s[1] < 0) {
            errors++;
          } else {
            lat.add(s[1]);
          }
        }
      }
    }
    long[] a = lat.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    if (a.length == 0) {
      System.out.printf(Locale.ROOT, "%s: none (%d errors)%n", what, errors);
      return;
    }
    System.out.printf(Locale.ROOT, "%s: %d puts, %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d errors%n", what,
        a.length, a.length / ((to - from) / 1e9), a[a.length / 2] / 1e6, a[(int) (a.length * 0.99)] / 1e6,
        a[a.length - 1] / 1e6, errors);
  }

  static void await(java.util.function.BooleanSupplier c, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out");
      }
      Thread.sleep(10);
    }
  }

  static int intArg(String[] args, String name, int dflt) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return dflt;
  }

  static String strArg(String[] args, String name, String dflt) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return dflt;
  }

  static void deleteTree(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
